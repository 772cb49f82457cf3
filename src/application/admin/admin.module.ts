import { featureModule } from '../shared/feature-module';
import { CreateAdmin } from './create-admin';
import { DeleteUser } from './delete-user';
import { GetUserDetails } from './get-user-details';
import { GetUserStats } from './get-user-stats';
import { InviteUser } from './invite-user';
import { ListAuditEvents } from './list-audit-events';
import { ListUsers } from './list-users';
import { RecordAdminRefusal } from './record-admin-refusal';
import { RemoveUserMfa } from './remove-user-mfa';
import { RevokeUserSessions } from './revoke-user-sessions';
import { SendPasswordReset } from './send-password-reset';
import { UnlockAccountByOperator } from './unlock-account-by-operator';
import { UnlockUser } from './unlock-user';
import { UpdateUser } from './update-user';

/** The admin API (issue 12) and the CLI's create-admin. */
export const ADMIN_CLASSES = {
  ListUsers,
  InviteUser,
  GetUserDetails,
  UpdateUser,
  UnlockUser,
  RevokeUserSessions,
  SendPasswordReset,
  DeleteUser,
  GetUserStats,
  ListAuditEvents,
  CreateAdmin,
  UnlockAccountByOperator,
  RecordAdminRefusal,
  RemoveUserMfa,
} as const;

export const adminModule = featureModule(ADMIN_CLASSES);
