# syntax=docker/dockerfile:1
# Isthmus container image. Three stages: `build` compiles TypeScript with the dev dependencies,
# `deps` installs the production dependencies only, and the runtime stage takes dist/ from the
# first and node_modules/ from the second, so no compiler, linter or test runner ships.
#
#   docker build -t isthmus:dev .
#   docker run --rm -v "$PWD/deploy/examples/demo.yaml:/etc/isthmus/config.yaml:ro" isthmus:dev
#
# NODE_IMAGE pins the Node 24 LTS base; override it (ideally with a digest) to rebuild on a
# newer patch release without editing this file.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY bridge ./bridge
COPY adapters ./adapters
COPY proto ./proto
RUN npm run build

FROM ${NODE_IMAGE} AS deps
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: no runtime dependency needs an install script, and none should run here.
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
# A 1 MiB young generation (V8's default grows to 16 MiB) and a 1 GiB old generation, which also
# makes V8 grow the heap by at most ~1.6x the live data instead of 4x: at 10,100 endpoints peak
# RSS ~166 MiB instead of ~230-250 (README, Performance, for the costs). An environment
# variable, so `docker run -e NODE_OPTIONS=...` or the chart's `env` can change it.
ENV NODE_OPTIONS="--max-semi-space-size=1 --max-old-space-size=1024"
WORKDIR /app
COPY --from=deps --chown=root:root /src/node_modules ./node_modules
COPY --from=build --chown=root:root /src/dist ./dist
COPY --chown=root:root package.json ./
# The files above stay owned by root and read-only for the process: it needs no write access
# to its own code. `node` (uid 1000) comes with the base image.
USER 1000:1000
# 8080 HTTP resolver, probes and metrics; 9090 gRPC resolver.
EXPOSE 8080 9090
# Probes the same /livez the orchestrators use; ISTHMUS_HTTP_PORT is honoured when set.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.ISTHMUS_HTTP_PORT||8080)+'/livez').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# node is PID 1 and gets SIGTERM directly (no npm or shell in between, which would swallow it);
# the bridge installs its own SIGTERM/SIGINT handlers and runs its shutdown sequence.
ENTRYPOINT ["node", "--enable-source-maps", "dist/adapters/cli.js"]
CMD ["run", "--config", "/etc/isthmus/config.yaml"]
