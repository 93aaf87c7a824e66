import { MoeBenchError } from '../../util/errors';

/** A dataset file that cannot be used; names the file (and line when known). */
export class DatasetError extends MoeBenchError {
  constructor(message: string, file?: string, hint?: string, line?: number) {
    super(message, { file, line }, hint);
  }
}
