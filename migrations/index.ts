import { InitialSchema1732000000000 } from './1732000000000-initial-schema';

/** Every migration, oldest first; registered explicitly on the DataSource (no glob loading). */
export const migrations = [InitialSchema1732000000000];
