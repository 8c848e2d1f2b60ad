# One image for every Vigil role; docker-compose.yml picks the role with the command.
FROM node:20-bookworm-slim
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
