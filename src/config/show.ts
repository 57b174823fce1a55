/** What `llama config` reports: the resolved configuration and where it came from. */
import { loadConfig, SEARCH_PLACES, type LoadConfigOptions } from './load.ts';
import type { LlamaConfig } from './schema.ts';

export interface ConfigReport {
  /** Absolute path of the configuration file, or null when only defaults apply. */
  file: string | null;
  source: 'flag' | 'search' | 'defaults';
  /** Directory that relative paths in the configuration are resolved against. */
  baseDir: string;
  /** The configuration after validation, defaults filled in. */
  config: LlamaConfig;
  /** The file names searched, in order, from the working directory up to the project root. */
  searchPlaces: string[];
}

export async function describeConfig(options: LoadConfigOptions = {}): Promise<ConfigReport> {
  const loaded = await loadConfig(options);
  return {
    file: loaded.filepath,
    source: loaded.source,
    baseDir: loaded.baseDir,
    config: loaded.config,
    searchPlaces: [...SEARCH_PLACES],
  };
}
