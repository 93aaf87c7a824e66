import { MoeBenchError } from '../../util/errors';

/** A result file that is not what it claims to be, with the file (and line) it failed at. */
export class ImportFormatError extends MoeBenchError {}
