# syntax=docker/dockerfile:1
# One image for every part of cascade-lab; the command picks the part:
#   serve downstream | serve gateway | serve producer | serve worker | experiment … | load … | dlq …
# A maintained LTS (Node 24, supported until 2028-04-30); the code also runs on Node >= 20.18.
ARG NODE_VERSION=24

# Stages that depend only on the lockfile come first: a change to the code rebuilds the
# compiled code alone, and the runtime's node_modules layer is reused as it is.
FROM node:${NODE_VERSION}-bookworm-slim AS install
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

# Dev and optional dependencies (testcontainers, only for a local stack without Redis) stay out.
FROM install AS runtime-deps
RUN npm prune --omit=dev --omit=optional --no-audit --no-fund

FROM install AS build
COPY tsconfig.json tsconfig.build.json ./
COPY services ./services
COPY load ./load
RUN npm run build

FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0
WORKDIR /app
# Code and dependencies stay root-owned (read-only to the service); only reports/ is writable.
COPY --from=runtime-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY scenarios ./scenarios
RUN mkdir reports && chown node:node reports
USER node
# Every service answers GET /healthz on $PORT; the load container has no port and turns this off.
# bash's /dev/tcp, not a second Node process inside the container's memory limit every 5 s.
HEALTHCHECK --interval=5s --timeout=2s --start-period=10s --retries=5 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/$PORT && printf 'GET /healthz HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && head -c 12 <&3 | grep -q ' 200'"]
ENTRYPOINT ["node", "dist/load/cli.js"]
CMD ["help"]
