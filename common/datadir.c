/* datadir.c - keeping a lab's data directory private (see datadir.h). Not
 * recursive on purpose: --home may name a directory that holds more than the
 * lab; home itself at 0700 already closes everything below it. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include "datadir.h"
#include "util.h"

void datadir_umask(void)
{
	umask(077);
}

/* Drop group and other bits of path when it is a file or directory. */
static void make_private(const char *path)
{
	struct stat st;
	if (lstat(path, &st) == 0 && !S_ISLNK(st.st_mode) && (st.st_mode & 077))
		chmod(path, st.st_mode & 0700);
}

static void make_dir_private(const char *dir)
{
	make_private(dir);
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
			continue;
		char *p = xasprintf("%s/%s", dir, e->d_name);
		struct stat st;
		if (lstat(p, &st) == 0 && S_ISREG(st.st_mode))
			make_private(p);
		free(p);
	}
	closedir(d);
}

void datadir_make_private(const char *home, const char *db_path)
{
	static const char *const subdirs[] = {"run", "tls", "log"};
	make_dir_private(home);
	for (size_t i = 0; i < sizeof subdirs / sizeof subdirs[0]; i++) {
		char *p = xasprintf("%s/%s", home, subdirs[i]);
		make_dir_private(p);
		free(p);
	}
	if (!db_path)
		return;
	static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
	for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
		char *p = xasprintf("%s%s", db_path, suffixes[i]);
		make_private(p);
		free(p);
	}
}
