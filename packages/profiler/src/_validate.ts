// One Ajv instance for the package's schemas, and error text that names the field.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

const ajv = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true });

/** Compile a schema once (Ajv caches by identity). */
export function compile<T>(schema: object): ValidateFunction<T> {
  return ajv.compile<T>(schema);
}

/** The first validation error as "field: problem", the field as a JSON pointer-ish path. */
export function describeAjvError(errors: readonly ErrorObject[] | null | undefined): { field: string; problem: string } {
  const e = errors?.[0];
  if (!e) return { field: '(root)', problem: 'invalid' };
  let field = e.instancePath.replace(/^\//, '').replace(/\//g, '.') || '(root)';
  let problem = e.message ?? 'invalid';
  if (e.keyword === 'required') {
    const missing = (e.params as { missingProperty: string }).missingProperty;
    field = field === '(root)' ? missing : `${field}.${missing}`;
    problem = 'is required';
  } else if (e.keyword === 'additionalProperties') {
    const extra = (e.params as { additionalProperty: string }).additionalProperty;
    field = field === '(root)' ? extra : `${field}.${extra}`;
    problem = 'is not a known field';
  } else if (e.keyword === 'enum') {
    problem = `must be one of ${((e.params as { allowedValues: unknown[] }).allowedValues).map((v) => JSON.stringify(v)).join(', ')}`;
  } else if (e.keyword === 'const') {
    problem = `must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`;
  }
  return { field, problem };
}
