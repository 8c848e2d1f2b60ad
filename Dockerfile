# One image for every Vigil role; docker-compose.yml picks the role with the command. The
# `browser` target adds Debian's Chromium for the browser worker; the others do without it.
FROM node:20-bookworm-slim AS base
WORKDIR /app
ENV NODE_ENV=production VIGIL_DATA_DIR=/data
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY lib ./lib
COPY intake ./intake
COPY activities ./activities
COPY workflows ./workflows
COPY workers ./workers
COPY scripts ./scripts
COPY demo ./demo
RUN mkdir -p /data && chown node:node /data
USER node
ENTRYPOINT ["node", "bin/vigil.js"]
CMD ["--help"]

FROM base AS browser
USER root
RUN apt-get update && apt-get install -y --no-install-recommends chromium && rm -rf /var/lib/apt/lists/*
ENV VIGIL_CHROMIUM=/usr/bin/chromium
USER node

FROM base
