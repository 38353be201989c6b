/* SPDX-License-Identifier: Apache-2.0 */
/*
 * users: user and group names from the image's own /etc/passwd and
 * /etc/group (plain file parsing, no NSS: user images may have neither NSS
 * modules nor entries for the running uid). Names that are not found are
 * given and accepted as numeric strings.
 */
#ifndef EXECD_USERS_H
#define EXECD_USERS_H

#include <stddef.h>
#include <sys/types.h>

/* Name of uid, or its decimal string. */
void users_uid_name(uid_t uid, char *out, size_t len);
/* Name of gid, or its decimal string. */
void users_gid_name(gid_t gid, char *out, size_t len);
/* uid (and primary gid, if gid is not NULL) of a user name or numeric string. 0 or -ENOENT. */
int users_find_user(const char *name, uid_t *uid, gid_t *gid);
/* gid of a group name or numeric string. 0 or -ENOENT. */
int users_find_group(const char *name, gid_t *gid);
/* Primary gid of uid from /etc/passwd; -ENOENT if the uid has no entry. */
int users_primary_gid(uid_t uid, gid_t *gid);
/* Groups for uid: primary first, then every group listing the user. Returns the count. */
int users_groups_of(uid_t uid, gid_t primary, gid_t *out, int max);

#endif
