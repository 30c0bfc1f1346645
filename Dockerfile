# One image for every part of the simulated CamDX network; docker-compose.yml picks the part
# with `camdx node <role>`.
FROM node:20-bookworm-slim

# Khmer OS: the font MOI's sample ID cards are printed in. OpenSSL: for trying the PKI by hand.
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-khmeros openssl \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts ./scripts
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
# The bundle each process starts from (scripts/build.mjs skipped it above: no sources yet).
RUN node scripts/build.mjs

# Keys, databases and logs: one volume shared by the parts (see docker-compose.yml).
ENV CAMDX_STATE_DIR=/var/lib/camdx
RUN mkdir -p /var/lib/camdx && chown node:node /var/lib/camdx
VOLUME /var/lib/camdx
USER node
ENTRYPOINT ["node", "/app/bin/camdx.js"]
CMD ["--help"]
