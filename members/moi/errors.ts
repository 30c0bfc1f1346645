/**
 * The Open KYC error table. Every failure answers `{error: <code>, message, data: null}` (data
 * carries partial results where that helps, e.g. the MRZ lines that were read), with the HTTP
 * status below; success is `{error: 0, message: "Successfully", data}`.
 */
export const KYC_ERRORS = {
  invalidJson: { code: 1000, status: 400, title: 'the body is not a JSON object' },
  missingField: { code: 1001, status: 400, title: 'a required field is missing' },
  invalidField: { code: 1002, status: 400, title: 'a field has the wrong type or format' },
  tooLarge: { code: 1003, status: 413, title: 'the request body is too large' },
  unknownEndpoint: { code: 1004, status: 404, title: 'no such endpoint' },
  unknownPerson: { code: 2001, status: 404, title: 'no person with this ID number in the civil registry' },
  notImage: { code: 3001, status: 422, title: 'not a PNG or JPEG image (or not base64)' },
  imageTooLarge: { code: 3002, status: 413, title: 'the image is too large' },
  imageUndecodable: { code: 3003, status: 422, title: 'the image is damaged' },
  cardNotFound: { code: 3101, status: 422, title: 'no ID card found in the image' },
  mrzNotFound: { code: 3102, status: 422, title: 'no machine-readable zone found on the card' },
  mrzUnreadable: { code: 3103, status: 422, title: 'the machine-readable zone could not be read' },
  mrzCheckDigit: { code: 3104, status: 422, title: 'an MRZ check digit is wrong' },
  mrzInvalid: { code: 3105, status: 422, title: 'the MRZ is not a TD1 identity-card MRZ' },
  faceNotFound: { code: 3201, status: 422, title: 'no face in the image' },
  livenessInvalid: { code: 4001, status: 422, title: 'the liveness recording is not in the accepted format' },
  internal: { code: 5000, status: 500, title: 'internal error' },
  ocrUnavailable: { code: 5001, status: 503, title: 'the OCR engine is not available' },
  busy: { code: 5003, status: 503, title: 'too many image checks in progress; retry shortly' },
  timeLimit: { code: 5004, status: 503, title: 'the image check took longer than its time limit and was stopped; retry, or send a smaller or clearer image' },
} as const;

export type KycErrorName = keyof typeof KYC_ERRORS;

export class KycError extends Error {
  readonly code: number;
  readonly status: number;

  constructor(
    readonly kind: KycErrorName,
    detail?: string,
    readonly data: unknown = null,
  ) {
    super(detail ? `${KYC_ERRORS[kind].title}: ${detail}` : KYC_ERRORS[kind].title);
    this.code = KYC_ERRORS[kind].code;
    this.status = KYC_ERRORS[kind].status;
  }
}
