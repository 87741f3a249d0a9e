# deltagres container image: a multi-stage build with a slim, non-root runtime.
# Build:  docker build -t deltagres .
# Run:    docker run -p 5433:5433 -v deltagres-data:/var/lib/deltagres deltagres

FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY tests ./tests
RUN cargo build --release --locked --bin deltagres

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates postgresql-client \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/deltagres deltagres \
 && mkdir -p /var/lib/deltagres/data \
 && chown -R deltagres:deltagres /var/lib/deltagres
COPY --from=build /src/target/release/deltagres /usr/local/bin/deltagres
COPY config.toml /etc/deltagres/config.toml
USER deltagres
WORKDIR /var/lib/deltagres
ENV DELTAGRES_SERVER_LISTEN=0.0.0.0:5433 \
    DELTAGRES_HTTP_LISTEN=0.0.0.0:5480 \
    DELTAGRES_STORAGE_DATA_DIR=/var/lib/deltagres/data
VOLUME ["/var/lib/deltagres/data"]
EXPOSE 5433 5480
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s \
  CMD pg_isready -h 127.0.0.1 -p 5433 -q || exit 1
ENTRYPOINT ["deltagres", "serve", "--config", "/etc/deltagres/config.toml"]
