/* datadir.h - a lab's data directory is private to its user: it holds every
 * key, password and mail (lab.db and its WAL), the TLS key, pid, ready and
 * log files. Daemons and ctdlab create what they write with umask 077
 * (datadir_umask), and datadir_make_private takes group and other access away
 * from what an older version left readable. */
#ifndef CTD_DATADIR_H
#define CTD_DATADIR_H

/* umask 077 for this process: files 0600, directories 0700. */
void datadir_umask(void);
/* home 0700; the files directly in home and in its run/, tls/ and log/
 * directories (and those directories) lose group and other access; the store
 * db_path (NULL: none) and its -wal/-shm too. Symbolic links are left
 * alone. Errors are ignored: a file that is not there needs nothing. */
void datadir_make_private(const char *home, const char *db_path);

#endif
