# syntax=docker/dockerfile:1
# One image for every part of cascade-lab; the command picks the part:
#   serve downstream | serve gateway | serve producer | serve worker | experiment … | load … | dlq …
ARG NODE_VERSION=20.20

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY services ./services
COPY load ./load
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0
WORKDIR /app
# Code and dependencies stay root-owned (read-only to the service); only reports/ is writable.
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY scenarios ./scenarios
RUN mkdir reports && chown node:node reports
USER node
# Every service answers GET /healthz on $PORT; the load container has no port and turns this off.
HEALTHCHECK --interval=5s --timeout=2s --start-period=10s --retries=5 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.PORT + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/load/cli.js"]
CMD ["help"]
