import { readFile } from 'node:fs/promises';
import { CatalogSchema, type Catalog } from '../../shared/catalog.contract';
import { AppError, ErrorCode } from '../../shared/errors.contract';

/** Reads and validates a catalog file; AppError(internal) naming the file and the first problems. */
export async function loadCatalog(path: string): Promise<Catalog> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new AppError(ErrorCode.Internal, `Cannot read the model catalog ${path}.`, false, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new AppError(ErrorCode.Internal, `The model catalog ${path} is not valid JSON.`, false, { cause: error });
  }
  const result = CatalogSchema.safeParse(json);
  if (!result.success) {
    const problems = result.error.issues
      .slice(0, 3)
      .map((issue) => `${issue.path.join('.') || '(catalog)'}: ${issue.message}`)
      .join('; ');
    throw new AppError(ErrorCode.Internal, `The model catalog ${path} is malformed: ${problems}.`, false);
  }
  return result.data;
}
