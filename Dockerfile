# pullguard container image: build on Debian 12, run on Debian 12 with the runtime libraries only.
#
#   docker build -t pullguard .
#   docker run -d --name pullguard --network host pullguard
#
# Without Docker Hub, build a local base first and pass it (deploy/docker/README.md):
#   deploy/docker/make-base-image.sh
#   docker build --network host --build-arg BASE_IMAGE=pullguard-base:bookworm -t pullguard .
# Works with BuildKit and with the classic builder (no BuildKit-only syntax).

ARG BASE_IMAGE=debian:bookworm-slim

# --- build --------------------------------------------------------------------------------------
FROM ${BASE_IMAGE} AS build
ARG DEBIAN_FRONTEND=noninteractive
# What CMakeLists.txt finds: a compiler, CMake, Ninja, pkg-config, libcurl, nlohmann/json,
# CLI11, prometheus-cpp, civetweb (its CMake config), standalone Asio. No GoogleTest: tests are off.
# libsystemd-dev: for sd_notify readiness, when the build asks for it (harmless otherwise).
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config \
      libasio-dev libcivetweb-dev libcli11-dev libcurl4-openssl-dev libssl-dev libsystemd-dev \
      nlohmann-json3-dev prometheus-cpp-dev zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# No .git in the build context: the revision comes in as a build argument, for
# `pullguard --version`, pullguard_build_info and the image's revision label.
ARG REVISION=unknown
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
      -DPULLGUARD_BUILD_TESTS=OFF -DPULLGUARD_REVISION="${REVISION}" \
 && cmake --build /build \
 && DESTDIR=/staging cmake --install /build --strip \
 && /staging/usr/bin/pullguard --version

# --- runtime ------------------------------------------------------------------------------------
FROM ${BASE_IMAGE}
ARG DEBIAN_FRONTEND=noninteractive
# The shared libraries `ldd pullguard` lists, by their Debian runtime packages (libstdc++6,
# libgcc-s1, zlib1g and libsystemd0 are in every Debian base already), and the CA bundle for
# https://registry-1.docker.io.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates libcivetweb1 libcurl4 libprometheus-cpp-core1.0 \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log \
 && groupadd --gid 10001 pullguard \
 && useradd --no-log-init --uid 10001 --gid pullguard --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin pullguard \
 && install -d -o 10001 -g 10001 -m 0700 /var/lib/pullguard

COPY --from=build /staging/usr/bin/pullguard /usr/bin/pullguard
COPY deploy/pullguard.json /etc/pullguard/pullguard.json
# Fail the build, not the first start, if a library is missing or the shipped config is wrong.
RUN if ldd /usr/bin/pullguard | grep 'not found'; then exit 1; fi \
 && /usr/bin/pullguard --version \
 && /usr/bin/pullguard --config.check --config.file=/etc/pullguard/pullguard.json

ARG BASE_IMAGE
# Declared late, so a new revision does not rebuild the layers above.
# Keep VERSION in step with project(... VERSION) in CMakeLists.txt; tests/container checks it.
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="pullguard" \
      org.opencontainers.image.description="Watches Docker Hub pull rate limits and serves them as Prometheus metrics on port 10217" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="${BASE_IMAGE}"

USER 10001:10001
# The budget history (history.json); mount a volume here to keep forecasts across containers.
ENV STATE_DIRECTORY=/var/lib/pullguard
EXPOSE 10217
# No curl in the image: bash's /dev/tcp asks /-/healthy. Set PULLGUARD_HEALTHCHECK_ADDRESS when
# web.listen_address is not on port 10217 or not reachable on 127.0.0.1.
ENV PULLGUARD_HEALTHCHECK_ADDRESS=127.0.0.1:10217
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["bash", "-c", "a=$PULLGUARD_HEALTHCHECK_ADDRESS; exec 3<>/dev/tcp/${a%:*}/${a##*:} && printf 'GET /-/healthy HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && read -r proto code rest <&3 && [ \"$code\" = 200 ]"]
ENTRYPOINT ["/usr/bin/pullguard"]
CMD ["--config.file=/etc/pullguard/pullguard.json"]
