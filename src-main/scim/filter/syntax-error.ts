import { ScimError } from '../errors';

export type SyntaxErrorType = 'invalidFilter' | 'invalidPath' | 'invalidValue';

/**
 * A SCIM 400 that knows where in the text it went wrong. It *is* a ScimError (same body, same
 * status), so the error middleware needs nothing new; the position is there for tests and for the
 * UI, which can underline the offending character.
 */
export class ScimSyntaxError extends ScimError {
  constructor(
    scimType: SyntaxErrorType,
    /** 0-based offset into the text. */
    readonly position: number,
    readonly reason: string,
  ) {
    super(400, `${describe(scimType)} at position ${position + 1}: ${reason}`, scimType);
  }
}

function describe(scimType: SyntaxErrorType): string {
  if (scimType === 'invalidFilter') return 'Invalid filter';
  if (scimType === 'invalidPath') return 'Invalid path';
  return 'Invalid attribute name';
}
