# One image for every Vigil role; the command picks the role (`intake`, `worker`, `browser-worker`).
# The default target serves intake and the worker; the `browser` target adds Debian's Chromium for
# the browser worker, so that the others carry no browser.
#   docker build -t vigil .
#   docker build --target browser -t vigil-browser .
# Node 24 LTS: Node 20 reached its end of life in April 2026 (docs/deploy.md, supported versions).
FROM node:24-bookworm-slim AS app
WORKDIR /app
ENV NODE_ENV=production VIGIL_DATA_DIR=/data
COPY package.json package-lock.json ./
# Runtime dependencies only: tsx (which runs the TypeScript sources until they are built) and esbuild
# (which `vigil build` compiles them with) among them.
# No install scripts: the native parts Vigil uses come prebuilt in their packages, and the optional
# ones that would compile (ssh2's cpu-features) would fetch Node's headers from outside the registry.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY tsconfig.json ./
COPY bin ./bin
COPY lib ./lib
COPY intake ./intake
COPY activities ./activities
COPY workflows ./workflows
COPY workers ./workers
COPY scripts ./scripts
COPY demo ./demo
# Built once here (`vigil build`): the workflow bundle, which a worker loads instead of running
# webpack at every start, and Vigil compiled to JavaScript, which bin/vigil.js runs instead of
# compiling the TypeScript as it loads. Each is used only while its sources are unchanged.
RUN node bin/vigil.js build
# The data folder belongs to the unprivileged `node` user (uid 1000) the image runs as.
RUN mkdir -p /data && chown node:node /data
USER node
# Intake answers /healthz on its port; a worker's compose service or pod names its own endpoint
# (its metrics port) in VIGIL_HEALTHCHECK_URL.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.VIGIL_HEALTHCHECK_URL || 'http://127.0.0.1:8787/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/vigil.js"]
CMD ["--help"]

FROM app AS browser
USER root
# fonts-liberation is only recommended by the package, and without a font pages render as boxes.
RUN apt-get update \
  && apt-get install -y --no-install-recommends chromium fonts-liberation \
  && rm -rf /var/lib/apt/lists/*
ENV VIGIL_CHROMIUM=/usr/bin/chromium
USER node

# The default target (a plain `docker build`): intake and the worker, without Chromium.
FROM app
