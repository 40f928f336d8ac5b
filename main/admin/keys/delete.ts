/** `npm run keys -- delete <account>`: removes one keychain entry. */
import { openStoreChecked } from '../cli';
import { EXIT_CODES, rejectOptions, requireAccount } from './args';
import type { CliDeps, ParsedArgs } from './args';

export async function runDelete(args: ParsedArgs, deps: CliDeps): Promise<void> {
  rejectOptions(args, 'delete', ['--service']);
  const account = requireAccount(args.positional, 'delete');
  const store = openStoreChecked(deps, args.service, EXIT_CODES.USAGE);
  const existed = await store.delete(account);
  deps.stdout.write(
    existed ? `deleted ${account} from service "${args.service}"\n` : `${account} was not present in service "${args.service}"; nothing deleted\n`,
  );
}
