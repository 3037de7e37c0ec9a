# The Icarus Nova cloud as one image: `podman build -t icarus-cloud .` (or docker build).
# The base is a build argument so the same file builds from the official Node image or from a
# locally made one where no registry is reachable (see docs/DEPLOYMENT.md).
ARG NODE_IMAGE=node:20-bookworm-slim

# 1. Build: every dependency of the cloud (dev ones too), then a type check of what the image
#    runs, so a broken tree never becomes an image.
FROM ${NODE_IMAGE} AS build
# Where the network to the npm registry needs an extra CA (a TLS-inspecting proxy), its file is
# mounted for the build and named here; these stages are not shipped, so nothing of it stays.
ARG NODE_EXTRA_CA_CERTS=
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY shared/package.json shared/
COPY cloud/package.json cloud/
# The lockfile names every workspace; the agent's manifest lets npm read it without its code.
# No install scripts: the cloud needs none (esbuild and argon2 come as prebuilt packages), and
# they would compile the agent's native modules.
COPY desktop-agent/package.json desktop-agent/
RUN npm ci --workspace cloud --include-workspace-root --ignore-scripts --no-audit --no-fund
COPY shared/src shared/src
COPY cloud/src cloud/src
COPY cloud/scripts/admin.ts cloud/scripts/migrate.ts cloud/scripts/
COPY deploy/tsconfig.image.json deploy/
RUN npx tsc -p deploy/tsconfig.image.json && touch /app/.typechecked

# 2. Production dependencies only (tsx is one: the cloud runs its TypeScript through it).
FROM ${NODE_IMAGE} AS deps
ARG NODE_EXTRA_CA_CERTS=
WORKDIR /app
COPY package.json package-lock.json ./
COPY shared/package.json shared/
COPY cloud/package.json cloud/
COPY desktop-agent/package.json desktop-agent/
RUN npm ci --omit=dev --workspace cloud --include-workspace-root --ignore-scripts --no-audit --no-fund && npm cache clean --force

# 3. Runtime: production dependencies, the sources, a non-root user, nothing secret.
FROM ${NODE_IMAGE} AS runtime
# Every node process of the container (the cloud, migrate.ts, admin.ts under `exec`) first reads
# secrets given as files: NAME_FILE=/run/secrets/… becomes NAME (deploy/env-files.mjs).
ENV NODE_ENV=production \
    NODE_OPTIONS=--import=/app/deploy/env-files.mjs \
    HOST=0.0.0.0 \
    PORT=8787 \
    DATA_DIR=/data
RUN groupadd --system --gid 10001 icarus \
 && useradd --system --uid 10001 --gid icarus --home-dir /app --no-create-home --shell /usr/sbin/nologin icarus \
 && mkdir -p /data && chown icarus:icarus /data
WORKDIR /app
COPY --from=deps /app/node_modules node_modules
COPY --from=build /app/.typechecked /app/.typechecked
COPY package.json ./
COPY shared/package.json shared/
COPY shared/src shared/src
COPY cloud/package.json cloud/
COPY cloud/src cloud/src
# The first admin and password resets: podman exec <container> node --import tsx cloud/scripts/admin.ts …
COPY cloud/scripts/admin.ts cloud/scripts/
# The one-shot migration a compose service or a Kubernetes Job runs: node --import tsx cloud/scripts/migrate.ts
COPY cloud/scripts/migrate.ts cloud/scripts/
COPY deploy/healthcheck.mjs deploy/env-files.mjs deploy/
USER icarus
# PGlite's folder and generated secrets when DATABASE_URL or the keys are not given.
VOLUME ["/data"]
EXPOSE 8787
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["node", "deploy/healthcheck.mjs"]
# node itself is PID 1 (tsx loads in-process, no wrapper): server.ts stops gracefully on SIGTERM.
CMD ["node", "--import", "tsx", "cloud/src/server.ts"]
