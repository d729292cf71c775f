# Dockerflow C++ service image.
#
#   builder  Debian bookworm with the compilers and -dev packages; builds with CMake and runs the unit
#            tests (a failing unit test fails the image build). Also the image of docker-compose.test.yml
#            and of the development override (sources in /src, build tree in /build).
#   runtime  FROM scratch: the binary, its shared-library closure and dynamic loader, CA certificates,
#            passwd/group with app (10001:10001). No shell, no package manager.
#
# Build with scripts/docker/build.sh (make docker-build), which passes the OCI label arguments from
# version.json. Works with the classic builder (docker-compose 1.x) and with BuildKit.

# The base image name can be changed (e.g. a registry mirror); scripts/docker/base-images.sh provides it.
ARG BASE_IMAGE=debian:bookworm
FROM ${BASE_IMAGE} AS builder

# Dependencies first: a source change reuses this layer and only recompiles.
RUN set -eux; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        ca-certificates cmake g++ make pkgconf \
        libboost1.81-dev libboost-system1.81-dev libboost-url1.81-dev \
        libfmt-dev libgmock-dev libgtest-dev libhiredis-dev libpq-dev libpqxx-dev libspdlog-dev \
        nlohmann-json3-dev; \
    rm -rf /var/lib/apt/lists/*

# Release at -O2 without debug information: the runtime binary is stripped anyway, and -g costs
# compile time.
ARG BUILD_JOBS=2
WORKDIR /src
COPY CMakeLists.txt ./
COPY cmake cmake
COPY include include
COPY src src
COPY tests tests
RUN cmake -S /src -B /build -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" \
 && cmake --build /build -j"$BUILD_JOBS" \
 && ctest --test-dir /build -L unit --output-on-failure -j"$BUILD_JOBS"

# The runtime tree: the stripped binary, every shared library ldd resolves (paths preserved, so the
# loader's default search path finds them without an ld.so.cache), the loader itself, CA certificates,
# and the few /etc files glibc reads (users for libpq's getpwuid, hosts lookup order for DNS).
RUN set -eux; \
    root=/rootfs; \
    mkdir -p "$root/app" "$root/etc/ssl/certs" "$root/tmp"; \
    chmod 1777 "$root/tmp"; \
    install -m 0755 -s /build/dockerflow-app "$root/app/dockerflow-app"; \
    ldd /build/dockerflow-app \
      | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' \
      | sort -u \
      | while read -r lib; do cp -L --parents "$lib" "$root"; done; \
    cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"; \
    printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' \
        'app:x:10001:10001:app:/app:/sbin/nologin' \
        'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' > "$root/etc/passwd"; \
    printf '%s\n' 'root:x:0:' 'app:x:10001:' 'nogroup:x:65534:' > "$root/etc/group"; \
    printf '%s\n' 'passwd: files' 'group: files' 'hosts: files dns' > "$root/etc/nsswitch.conf"; \
    chroot "$root" /app/dockerflow-app --help > /dev/null; \
    du -sh "$root"

FROM scratch AS runtime
COPY --from=builder /rootfs/ /
COPY version.json /app/version.json

ARG SOURCE_URL=https://github.com/mozilla-services/dockerflow-cpp
ARG VERSION=0.0.0-dev
ARG COMMIT=0000000000000000000000000000000000000000
ARG CREATED=1970-01-01T00:00:00Z
LABEL org.opencontainers.image.source="$SOURCE_URL" \
      org.opencontainers.image.revision="$COMMIT" \
      org.opencontainers.image.version="$VERSION" \
      org.opencontainers.image.created="$CREATED" \
      org.opencontainers.image.title="dockerflow-app" \
      org.opencontainers.image.description="Dockerflow-compliant C++ HTTP service"

# GNUTLS_NO_IMPLICIT_INIT: GnuTLS is loaded only as a dependency of libpq's LDAP library, which
# initialises it itself when it needs it (gnutls_global_init); without this, GnuTLS's load-time
# initialisation costs every process ~0.8 MB resident for nothing.
ENV PORT=8000 \
    DOCKERFLOW_VERSION_FILE=/app/version.json \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    GNUTLS_NO_IMPLICIT_INIT=1
WORKDIR /app
USER 10001:10001
EXPOSE 8000
# The server drains on SIGTERM (DOCKERFLOW_DRAIN_SECONDS, default 5) and exits 0 well inside
# Docker's 10 s stop timeout; see docs/operations.md.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=5s --start-period=5s --retries=3 \
    CMD ["/app/dockerflow-app", "healthcheck"]
ENTRYPOINT ["/app/dockerflow-app"]
CMD []
