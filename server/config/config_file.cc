#include "server/config/config_file.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tariffalert {
namespace {

// Options a file may not set: what reads the file, and help.
bool NeverInFile(const CLI::Option* opt, const CLI::App& app,
                 absl::string_view config_name) {
  return opt == app.get_help_ptr() || opt == app.get_help_all_ptr() ||
         opt->get_single_name() == config_name;
}

bool IsFlag(const CLI::Option* opt) { return opt->get_expected_min() == 0; }

bool IsList(const CLI::Option* opt) {
  return opt->get_items_expected_max() > 1;
}

// CLI11 wants the arguments last first.
void ParseArgs(CLI::App& app, std::vector<std::string> args) {
  std::reverse(args.begin(), args.end());
  app.clear();
  app.parse(args);
}

std::string Emit(const std::string& scalar) {
  YAML::Emitter out;
  out << scalar;
  return out.c_str();
}

}  // namespace

bool ConfigFile::IsSecret(absl::string_view option_name) {
  const std::string name = absl::AsciiStrToLower(option_name);
  if (absl::EndsWith(name, "-file") || absl::EndsWith(name, "-path")) {
    return false;
  }
  return absl::StrContains(name, "password") ||
         absl::StrContains(name, "secret") || name == "token" ||
         absl::EndsWith(name, "-token");
}

absl::Status ConfigFile::Parse(CLI::App& app, int argc, const char* const* argv,
                               absl::string_view config_option) {
  std::vector<std::string> command_line(argv + (argc > 0 ? 1 : 0), argv + argc);
  ParseArgs(app, command_line);  // CLI::ParseError goes to the caller
  const CLI::Option* config =
      app.get_option_no_throw(std::string(config_option));
  if (config == nullptr || config->count() == 0) return absl::OkStatus();
  const std::string path = config->as<std::string>();
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat(config_option, ": cannot read ", path));
  }
  std::stringstream text;
  text << in.rdbuf();
  return ParseText(app, text.str(), path, command_line);
}

absl::Status ConfigFile::ParseText(
    CLI::App& app, absl::string_view text, absl::string_view path,
    const std::vector<std::string>& command_line) {
  path_ = std::string(path);
  lines_.clear();
  ParseArgs(app, command_line);
  std::set<const CLI::Option*> on_command_line;
  for (const CLI::Option* opt : app.get_options()) {
    if (opt->count() > 0) on_command_line.insert(opt);
  }
  const CLI::Option* config_opt = nullptr;
  for (const CLI::Option* opt : app.get_options()) {
    if (opt->count() > 0 && !opt->get_lnames().empty() &&
        opt->get_lnames()[0] == "config") {
      config_opt = opt;
    }
  }
  (void)config_opt;

  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ":", e.mark.line + 1, ": ", e.msg));
  }
  if (!root.IsDefined() || root.IsNull()) {
    ParseArgs(app, command_line);
    return absl::OkStatus();
  }
  if (!root.IsMap()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ":", root.Mark().line + 1,
                     ": expected 'flag-name: value' lines (a YAML map)"));
  }
  // Per key, in file order: the arguments it stands for.
  std::vector<std::pair<int, std::vector<std::string>>> keys;
  std::map<std::string, int> seen;
  for (auto it = root.begin(); it != root.end(); ++it) {
    const int line = it->first.Mark().line + 1;
    const std::string at = absl::StrCat(path, ":", line, ": ");
    if (!it->first.IsScalar()) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, "a key must be a flag name"));
    }
    const std::string key = it->first.Scalar();
    CLI::Option* opt = key.empty() || key[0] == '-'
                           ? nullptr
                           : app.get_option_no_throw("--" + key);
    if (opt == nullptr || NeverInFile(opt, app, "config")) {
      return absl::InvalidArgumentError(absl::StrCat(
          at, "unknown key '", key,
          "' (the keys are tariff-alertd's long flag names without the "
          "dashes; see --help)"));
    }
    if (auto [first, inserted] = seen.emplace(key, line); !inserted) {
      return absl::InvalidArgumentError(absl::StrCat(
          at, "'", key, "' repeated (first at line ", first->second, ")"));
    }
    if (on_command_line.count(opt) > 0) continue;  // the command line wins
    const YAML::Node& value = it->second;
    if (!value.IsDefined() || value.IsNull()) continue;  // not set
    std::vector<std::string> args;
    const std::string flag = "--" + key;
    if (value.IsMap()) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, key, ": expected a value, not a map"));
    }
    if (IsFlag(opt)) {
      bool on = false;
      if (!value.IsScalar() || !YAML::convert<bool>::decode(value, on)) {
        return absl::InvalidArgumentError(
            absl::StrCat(at, key, ": expected true or false"));
      }
      args.push_back(flag + (on ? "=true" : "=false"));
    } else if (value.IsSequence()) {
      std::vector<std::string> items;
      for (const YAML::Node& item : value) {
        if (!item.IsScalar()) {
          return absl::InvalidArgumentError(
              absl::StrCat(path, ":", item.Mark().line + 1, ": ", key,
                           ": a list holds plain values"));
        }
        items.push_back(item.Scalar());
      }
      if (IsList(opt)) {
        for (const std::string& item : items) args.push_back(flag + "=" + item);
      } else if (!items.empty()) {
        args.push_back(flag + "=" + absl::StrJoin(items, ","));
      }
    } else {
      args.push_back(flag + "=" + value.Scalar());
    }
    if (args.empty()) continue;
    lines_[opt->get_single_name()] = line;
    keys.emplace_back(line, std::move(args));
  }

  std::vector<std::string> file_args;
  for (const auto& [line, args] : keys) {
    file_args.insert(file_args.end(), args.begin(), args.end());
  }
  try {
    ParseArgs(app, file_args);
  } catch (const CLI::ParseError& whole) {
    // Which key: the first that fails alone (a check across options fails
    // only together: then the file as a whole).
    for (const auto& [line, args] : keys) {
      try {
        ParseArgs(app, args);
      } catch (const CLI::ParseError& e) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ":", line, ": ", e.what()));
      }
    }
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", whole.what()));
  }
  std::vector<std::string> all = file_args;
  all.insert(all.end(), command_line.begin(), command_line.end());
  try {
    ParseArgs(app, all);
  } catch (const CLI::ParseError& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, " with the command line: ", e.what()));
  }
  return absl::OkStatus();
}

std::string ConfigFile::Where(absl::string_view option_name) const {
  auto it = lines_.find(std::string(option_name));
  if (it == lines_.end()) return "";
  return absl::StrCat(path_, ":", it->second, ": ");
}

std::string ConfigFile::Print(CLI::App& app,
                              const std::vector<std::string>& skip) {
  std::string out =
      "# The effective configuration (--print-config); --config reads it "
      "back.\n# Secrets are shown as set or unset only.\n";
  for (const CLI::Option* opt : app.get_options()) {
    if (opt == app.get_help_ptr() || opt == app.get_help_all_ptr() ||
        opt->get_lnames().empty()) {
      continue;
    }
    const std::string name = opt->get_lnames()[0];
    if (std::find(skip.begin(), skip.end(), name) != skip.end()) continue;
    std::string description = opt->get_description();
    std::replace(description.begin(), description.end(), '\n', ' ');
    absl::StrAppend(&out, "\n# ", description, "\n");
    const bool given = opt->count() > 0;
    // Only a text value is a secret ("max-streams-per-token" is a number).
    if (IsSecret(name) && absl::StartsWith(opt->get_type_name(), "TEXT")) {
      absl::StrAppend(&out, "# ", name, ": ", given ? "set" : "unset",
                      " (a secret: not shown)\n");
      continue;
    }
    if (IsFlag(opt)) {
      bool on = false;
      if (given) {
        try {
          on = opt->as<bool>();
        } catch (const CLI::Error&) {
          on = true;
        }
      }
      absl::StrAppend(&out, name, ": ", on ? "true" : "false", "\n");
      continue;
    }
    std::vector<std::string> values;
    if (given) {
      values = opt->results();
    } else if (!opt->get_default_str().empty()) {
      values.push_back(opt->get_default_str());
    }
    if (values.empty()) {
      absl::StrAppend(&out, "# ", name, ":\n");
    } else if (IsList(opt)) {
      std::vector<std::string> items;
      for (const std::string& v : values) items.push_back(Emit(v));
      absl::StrAppend(&out, name, ": [", absl::StrJoin(items, ", "), "]\n");
    } else {
      absl::StrAppend(&out, name, ": ", Emit(values.back()), "\n");
    }
  }
  return out;
}

}  // namespace tariffalert
