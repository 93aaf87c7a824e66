import { z } from 'zod';
import { getLanguageService, type LanguageService } from 'yaml-language-server';
import { cellSchemas, withDefaultsInHovers } from '../core/lang/schemas';

/**
 * One yaml-language-server instance per cell language, each configured with the JSON Schema
 * generated from the executor's zod schema (so completion and hover never drift from what runs).
 */
export class YamlSchemaServices {
  private readonly services = new Map<string, LanguageService>();

  constructor() {
    for (const [language, schema] of Object.entries(cellSchemas())) {
      const service = getLanguageService({
        schemaRequestService: async (uri: string) => {
          throw new Error(`schemas are inline; no request for ${uri}`);
        },
        workspaceContext: { resolveRelativePath: (relativePath: string) => relativePath },
      });
      // io: 'input' describes what users write (defaults are optional); transforms are not representable
      const json = withDefaultsInHovers(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-7' })) as Record<string, unknown>;
      service.configure({
        validate: false,
        completion: true,
        hover: true,
        format: false,
        isKubernetes: false,
        schemas: [{ uri: `moebench://schema/${language}.json`, fileMatch: ['*'], schema: json, name: language }],
      });
      this.services.set(language, service);
    }
  }

  get(language: string): LanguageService | undefined {
    return this.services.get(language);
  }
}
