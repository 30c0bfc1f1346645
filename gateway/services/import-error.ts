/**
 * The one error of importing a service from an OpenAPI document. `field` names the input at fault
 * ('document' for an uploaded or fetched text, 'url' for the address it was fetched from), so an
 * API can answer 400 naming the field; `message` never repeats the document's body.
 */
export type ImportField = 'document' | 'url';

export class OpenApiImportError extends Error {
  constructor(
    readonly field: ImportField,
    message: string,
  ) {
    super(message);
    this.name = 'OpenApiImportError';
  }
}
