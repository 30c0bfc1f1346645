import { createHash, X509Certificate } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { derHash } from '../../protocol/recurring.js';
import { bytesOf } from '../der.js';
import { DIGESTS, OID } from '../oids.js';
import { verifyData } from '../signature.js';

/** An OCSP response refused; `stale` when it is only too old (or past its nextUpdate): no fresh response, rather than a bad one. */
export class OcspError extends Error {
  constructor(
    message: string,
    readonly stale = false,
  ) {
    super(message);
  }
}

export interface OcspFacts {
  readonly status: 'good' | 'revoked' | 'unknown';
  readonly thisUpdate: number;
  readonly nextUpdate: number | null;
  /** Hex serial the response is about. */
  readonly serial: string;
  readonly nonce: Buffer | null;
}

/** Parsing and signature checks cost ~1 ms; a response is checked once, its freshness every time. */
const verified = new Map<string, OcspFacts>();
const CACHE_LIMIT = 2048;

const stripZeros = (hex: string) => hex.replace(/^(00)+(?=.)/, '').toUpperCase();

/**
 * Checks that `der` is a successful OCSP response about `cert`, signed by `issuer` itself or
 * by a responder certificate that `issuer` issued for OCSP signing. Says nothing about
 * freshness: see `checkFresh`.
 */
export function verifyOcspResponse(der: Buffer, cert: X509Certificate, issuer: X509Certificate): OcspFacts {
  const key = `${derHash(der)}:${cert.fingerprint256}:${issuer.fingerprint256}`;
  const known = verified.get(key);
  if (known) return known;
  const facts = verifyUncached(der, cert, issuer);
  if (verified.size >= CACHE_LIMIT) verified.delete(verified.keys().next().value!);
  verified.set(key, facts);
  return facts;
}

function verifyUncached(der: Buffer, cert: X509Certificate, issuer: X509Certificate): OcspFacts {
  let basic: pkijs.BasicOCSPResponse;
  try {
    const response = pkijs.OCSPResponse.fromBER(bytesOf(der));
    if (response.responseStatus.valueBlock.valueDec !== 0 || !response.responseBytes) throw new OcspError(`the OCSP responder answered status ${response.responseStatus.valueBlock.valueDec}`);
    basic = pkijs.BasicOCSPResponse.fromBER(bytesOf(response.responseBytes.response.valueBlock.valueHexView));
  } catch (err) {
    if (err instanceof OcspError) throw err;
    throw new OcspError('the OCSP response does not parse');
  }
  const tbs = basic.tbsResponseData.tbsView;
  const signature = basic.signature.valueBlock.valueHexView;
  const algorithm = basic.signatureAlgorithm.algorithmId;
  const candidates = [issuer, ...(basic.certs ?? []).map((c) => new X509Certificate(Buffer.from(c.toSchema().toBER(false))))];
  const signer = candidates.find((c) => verifyData(tbs, signature, algorithm, c.publicKey));
  if (!signer) throw new OcspError('the OCSP response signature does not verify with the CA or an attached responder certificate');
  if (signer !== issuer) {
    const delegated = signer.checkIssued(issuer) && signer.verify(issuer.publicKey) && (signer.keyUsage ?? []).includes(OID.ocspSigning);
    if (!delegated) throw new OcspError('the OCSP responder certificate is not authorised by the CA for OCSP signing');
  }

  const single = basic.tbsResponseData.responses.find((r) => stripZeros(Buffer.from(r.certID.serialNumber.valueBlock.valueHexView).toString('hex')) === stripZeros(cert.serialNumber));
  if (!single) throw new OcspError('the OCSP response is about another certificate');
  const digest = DIGESTS[single.certID.hashAlgorithm.algorithmId];
  const issuerCert = pkijs.Certificate.fromBER(bytesOf(issuer.raw));
  const keyHash = digest && createHash(digest.name).update(issuerCert.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView).digest();
  if (!keyHash || !keyHash.equals(Buffer.from(single.certID.issuerKeyHash.valueBlock.valueHexView))) throw new OcspError('the OCSP response names another issuer');
  const tag = (single.certStatus as asn1js.BaseBlock).idBlock.tagNumber;
  const nonceExt = basic.tbsResponseData.responseExtensions?.find((e) => e.extnID === OID.ocspNonce);
  let nonce: Buffer | null = null;
  if (nonceExt) {
    const inner = asn1js.fromBER(nonceExt.extnValue.valueBlock.valueHexView).result;
    nonce = Buffer.from(inner instanceof asn1js.OctetString ? inner.valueBlock.valueHexView : nonceExt.extnValue.valueBlock.valueHexView);
  }
  return {
    status: tag === 0 ? 'good' : tag === 1 ? 'revoked' : 'unknown',
    thisUpdate: single.thisUpdate.getTime(),
    nextUpdate: single.nextUpdate ? single.nextUpdate.getTime() : null,
    serial: cert.serialNumber,
    nonce,
  };
}

/** Clock skew tolerated for thisUpdate being slightly in the future. */
const SKEW_MS = 60_000;

/** A good status no older than `freshnessSeconds` (X-Road's ocspFreshnessSeconds) and not past nextUpdate. */
export function checkFresh(facts: OcspFacts, freshnessSeconds: number, now = Date.now()): void {
  if (facts.status !== 'good') throw new OcspError(`the certificate's OCSP status is ${facts.status}`);
  if (facts.thisUpdate > now + SKEW_MS) throw new OcspError('the OCSP response is dated in the future');
  if (now - facts.thisUpdate > freshnessSeconds * 1000) throw new OcspError(`the OCSP response is older than ${freshnessSeconds} s`, true);
  if (facts.nextUpdate !== null && facts.nextUpdate < now) throw new OcspError('the OCSP response is past its nextUpdate', true);
}
