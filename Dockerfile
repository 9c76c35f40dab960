# tariff-alert in a container (deploy/README.md, "The container").
#
#   docker build -t REGISTRY/tariff-alert:TAG .      (or podman/buildah)
#
# Two stages on debian:bookworm: `build` installs exactly the packages that
# scripts/install-deps.sh --build installs (the script itself runs here) and
# builds with cmake; the runtime stage has only the shared libraries the
# three binaries link (ldd, mapped to packages with dpkg -S; the test
# tests/deploy/dockerfile_test.py checks this list against the binaries of
# the build tree), a non-root user, the binaries, the web console's files and
# the default config. Nothing but Debian packages is downloaded.

FROM debian:bookworm AS build
WORKDIR /src
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN scripts/install-deps.sh --build && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DTA_BUILD_TESTS=OFF \
      -DCMAKE_INSTALL_PREFIX=/usr/local \
 && cmake --build /build -j"$(nproc)" --target tariff-alertd tariff-alert tariff-console \
 && cmake --install /build --prefix /usr/local --strip

FROM debian:bookworm
# The libraries tariff-alertd, tariff-alert and tariff-console link (libc6
# and libgcc-s1 are in every Debian image).
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      libabsl20220623 libbrotli1 libc-ares2 libcpp-httplib0.11 libgrpc++1.51 \
      libgrpc29 libhiredis0.14 libncursesw6 libprotobuf32 libre2-9 libssl3 \
      libstdc++6 libtinfo6 libyaml-cpp0.7 zlib1g \
      libcivetweb1 libprometheus-cpp-core1.0 libprometheus-cpp-pull1.0 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin tariff-alert
# Binaries in /usr/local/bin, the web console's page in
# /usr/local/share/tariff-alert/console (compiled into tariff-console as its
# default web root), the docs in /usr/local/share/doc/tariff-alert.
COPY --from=build /usr/local/bin/tariff-alertd /usr/local/bin/tariff-alert /usr/local/bin/tariff-console /usr/local/bin/
COPY --from=build /usr/local/share/tariff-alert /usr/local/share/tariff-alert
COPY --from=build /usr/local/share/doc/tariff-alert /usr/local/share/doc/tariff-alert
# The default config (the same files are built into the binaries; these are
# for --scoring-config / --console-config to start from).
COPY config/scoring.textproto config/console.textproto /etc/tariff-alert/
# A starting point for --config (docs/operations.md, "Configuration").
COPY deploy/config/tariff-alertd.yaml /etc/tariff-alert/tariff-alertd.yaml
USER tariff-alert:tariff-alert
# 50051: gRPC (tariff-alertd); 8443: the web console (tariff-console).
EXPOSE 50051 8443
ENTRYPOINT ["/usr/local/bin/tariff-alertd"]
CMD ["--help"]
