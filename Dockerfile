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

# Keys and databases: one volume per part, each mounted at that part's directory of the state
# dir (docker-compose.yml). Every mount point exists here, owned by node and private, so a new
# volume starts with that owner and mode; no VOLUME line, so no container gets a stray anonymous one.
ENV CAMDX_STATE_DIR=/var/lib/camdx
RUN install -d -o node -g node -m 700 /var/lib/camdx /var/lib/camdx/pki /var/lib/camdx/pki/offline \
      /var/lib/camdx/central /var/lib/camdx/sim /var/lib/camdx/sim/demobank /var/lib/camdx/sim/moc \
      /var/lib/camdx/sim/moi /var/lib/camdx/sim/tsc /var/lib/camdx/camdigikey \
      /var/lib/camdx/camdigikey/accounts /var/lib/camdx/camdigikey/accounts/demo-bank-web /var/lib/camdx/moi
USER node
ENTRYPOINT ["node", "/app/bin/camdx.js"]
CMD ["--help"]
