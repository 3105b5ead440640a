// Misuses of the result types: `tsc -p test/types/tsconfig.misuse.json` must report exactly the
// errors marked `// error TSnnnn` on their lines, and no others (../types.test.js checks).

import { parseResult } from '../../src/index.js';
import type { Hub } from '../../src/index.js';

declare const hub: Hub;
const alpine = { namespace: 'library', repository: 'alpine' };

const page = hub.call('list_repository_tags', alpine);
const misspelt = page.results?.[0]?.nmae; // error TS2339
const wrongType: string | undefined = page.count; // error TS2322
const notAnEnum: 'deleted' | undefined = page.results?.[0]?.status; // error TS2322
const maybeMissing: number = page.count; // error TS2322
const notNull: string | undefined = page.next; // error TS2322
const repo = hub.call('get_repository', alpine);
const notABoolean: string = repo.is_private; // error TS2322
const check = hub.call('check_repository_tag', { ...alpine, tag: 'latest' });
const noBody = check.body; // error TS2339
const deleted = hub.call('delete_personal_access_token', { uuid: 'x' });
const nothingThere = deleted.uuid; // error TS18047
const unknownName = hub.call(String('get_repository'), alpine);
const unnarrowed = unknownName.name; // error TS18046
const typed = parseResult(hub.repositories.getRepository(alpine));
const stillChecked: number = typed.name; // error TS2322

export {
  misspelt, wrongType, notAnEnum, maybeMissing, notNull, notABoolean, noBody, nothingThere, unnarrowed,
  stillChecked,
};
