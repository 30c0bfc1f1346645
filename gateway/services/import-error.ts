import { CamdxError, LocalCode } from '../../protocol/errors.js';

/**
 * The one error of importing a service from an OpenAPI document. `field` names the input at fault
 * ('document' for an uploaded or fetched text, 'url' for the address it was fetched from), so an
 * API can answer 400 naming the field; `message` never repeats the document's body.
 */
export type ImportField = 'document' | 'url';

export class OpenApiImportError extends CamdxError<'ServiceDescription'> {
  declare readonly field: ImportField;

  constructor(field: ImportField, message: string) {
    super(LocalCode.ServiceDescription, message, { field });
    this.name = 'OpenApiImportError';
  }
}
