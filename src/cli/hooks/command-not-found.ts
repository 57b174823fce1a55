/**
 * oclif's command_not_found hook: `llama help [COMMAND]` shows help (there is no help plugin), and a mistyped
 * command gets the usual Error/Hint form (JSON under --json) with the nearest command, written with spaces as users
 * type it (`license check`, never oclif's `license:check`). Exit 2.
 */
import { Errors, loadHelpClass, type Hook, type Interfaces } from '@oclif/core';
import { EXIT_CODES, UsageError } from '../../errors.ts';
import { nearest } from '../../util/nearest.ts';
import { writeError } from '../report.ts';

type Config = Interfaces.Config;

const spaced = (id: string): string => id.split(':').join(' ');

/** Commands, topics and `help`, as typed. */
function knownNames(config: Config): string[] {
  return [...config.commandIDs.map(spaced), ...config.topics.map((t) => spaced(t.name)), 'help'];
}

/**
 * oclif joins every word before the first flag into the id (`pul:org/x`, `config:extra`): the typed command is the
 * longest run of words that is a command (the rest were arguments it does not take), else the topics that exist,
 * then the first word that is none.
 */
function typedCommand(config: Config, words: string[]): { typed: string; rest: string[]; exists: boolean } {
  for (let k = words.length; k >= 1; k--) {
    if (config.findCommand(words.slice(0, k).join(':'))) return { typed: words.slice(0, k).join(' '), rest: words.slice(k), exists: true };
  }
  let i = 0;
  while (i < words.length - 1 && config.findTopic(words.slice(0, i + 1).join(':'))) i++;
  return { typed: words.slice(0, i + 1).join(' '), rest: words.slice(i + 1), exists: false };
}

/** What oclif would have said had it parsed the command: it takes no such argument. */
function unexpectedArgsError(config: Config, command: string, args: string[]): UsageError {
  return new UsageError('USAGE', `Unexpected argument${args.length === 1 ? '' : 's'} to ${config.bin} ${command}: ${args.join(', ')}`, {
    hint: `Run \`${config.bin} ${command} --help\` for its arguments and flags.`,
  });
}

export function unknownCommandError(config: Config, typed: string): UsageError {
  const bin = config.bin;
  if (typed.startsWith('-')) {
    return new UsageError('COMMAND_NOT_FOUND', `"${typed}" came before the command name; flags go after it.`, {
      hint: `Write \`${bin} COMMAND ${typed} …\`; \`${bin} --help\` lists the commands.`,
      details: { command: typed },
    });
  }
  const suggestion = nearest(typed, knownNames(config));
  return new UsageError('COMMAND_NOT_FOUND', `${bin} has no command "${typed}"${suggestion ? `: did you mean ${suggestion}?` : '.'}`, {
    hint: suggestion ? `Run \`${bin} ${suggestion} --help\` for its arguments, or \`${bin} --help\` for every command.` : `Run \`${bin} --help\` for the commands.`,
    details: { command: typed, ...(suggestion ? { suggestion } : {}) },
  });
}

const hook: Hook.CommandNotFound = async function (options) {
  const { config } = options;
  const argv = options.argv ?? [];
  const words = options.id.split(':');
  if (words[0] === 'help') {
    const target = [...words.slice(1), ...argv].filter((a) => !a.startsWith('-'));
    const id = target.join(':');
    if (id === '' || config.findCommand(id) || config.findTopic(id)) {
      const Help = await loadHelpClass(config);
      await new Help(config, config.pjson.oclif.helpOptions ?? config.pjson.helpOptions).showHelp(target);
      return;
    }
    writeError(unknownCommandError(config, typedCommand(config, target).typed), argv.includes('--json'));
    return Errors.exit(EXIT_CODES.usage);
  }
  const { typed, rest, exists } = typedCommand(config, words);
  const json = [typed, ...rest, ...argv].includes('--json');
  writeError(exists ? unexpectedArgsError(config, typed, rest) : unknownCommandError(config, typed), json);
  return Errors.exit(EXIT_CODES.usage);
};

export default hook;
