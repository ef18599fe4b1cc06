/*
 * fs.h - small file-system helpers shared by the writers: creating the
 * directories a file will live in.
 */
#ifndef HP_FS_H
#define HP_FS_H

/* mkdir -p of dir. 0, or -1 with errno set (ENOTDIR if a component is a
 * file). */
int hp__mkdir_p(const char *dir);
/* mkdir -p of the directory part of path (nothing for a bare name). */
int hp__mkdir_parents(const char *path);

#endif
