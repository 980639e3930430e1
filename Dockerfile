# expensebot's container image: one static binary (the SQLite driver is pure Go), run as a
# non-root user, with its data under /var/lib/expensebot.
#
#   docker build --build-arg VERSION=$(git describe --tags --always) \
#     --build-arg REVISION=$(git rev-parse HEAD) -t expensebot .
#   docker run --env-file expensebot.env -v expensebot-data:/var/lib/expensebot expensebot
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The image is built without the .git directory, so the version and commit come in as arguments.
ARG VERSION=""
ARG REVISION=""
ARG BUILD_TIME=""
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X main.version=${VERSION} -X main.revision=${REVISION} -X main.buildTime=${BUILD_TIME}" \
      -o /out/expensebot ./cmd/expensebot \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/expensebot /usr/local/bin/expensebot
COPY --from=build --chown=nonroot:nonroot /out/data /var/lib/expensebot
USER nonroot:nonroot
# The default SQLite database lives in the volume; DATABASE_URL=postgres://… uses PostgreSQL
# instead. Health and metrics are served on a port of their own (no token), the approval API on
# EXPENSEBOT_HTTP_ADDR when it is set with EXPENSEBOT_API_TOKENS.
ENV EXPENSEBOT_DATA_DIR=/var/lib/expensebot \
    EXPENSEBOT_METRICS_ADDR=0.0.0.0:9090 \
    EXPENSEBOT_LOG_FORMAT=json
VOLUME /var/lib/expensebot
EXPOSE 9090
# The image has no curl: the binary asks its own /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/usr/local/bin/expensebot", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/expensebot"]
CMD ["run"]
