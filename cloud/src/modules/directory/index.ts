// The directory module: the org's people, teams and who manages whom; CSV import.
import type { Database } from '../../platform/db/client';
import type { RequireUser } from '../../platform/env';
import type { AuditService } from '../audit';
import { createDirectoryImporter } from './importer';
import { createPeopleAdmin } from './people';
import { createPeopleStore } from './people-store';
import { createProvisionedDirectory } from './provisioned-store';
import { directoryRoutes } from './routes';
import { createDirectoryService } from './service';
import { createDirectoryStore } from './store';

export function createDirectoryModule(deps: { database: Database; audit: AuditService }) {
  const store = createDirectoryStore(deps.database);
  const service = createDirectoryService(store);
  const importer = createDirectoryImporter({ store, audit: deps.audit });
  const peopleStore = createPeopleStore(deps.database);
  const people = createPeopleAdmin({ store, people: peopleStore, audit: deps.audit });
  const provisioned = createProvisionedDirectory({ database: deps.database, store, people: peopleStore });
  return {
    service,
    importer,
    /** People and teams as admins keep them (the admin pages use this). */
    people,
    /** People and teams as the identity provider keeps them over SCIM (the provisioning module uses this). */
    provisioned,
    /** `/api/directory/import` for admins. */
    routes: (options: { requireUser: RequireUser; maxBodyBytes: number }) => directoryRoutes({ importer, ...options }),
  };
}
export type DirectoryModule = ReturnType<typeof createDirectoryModule>;

export type { DirectoryService } from './service';
export type { DirectoryImporter, ImportSummary } from './importer';
export type { PeopleAdmin } from './people';
export type { ProvisionedDirectory, ProvisionedPerson } from './provisioned-store';
export { PEOPLE_PAGE_SIZE, TeamName } from './people';
export type { UserRow, TeamRow } from './store';
export type { Membership } from './membership-store';
export { teamOnDay } from './membership';
