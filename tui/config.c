/*
 * config.c - the per-user configuration files (see config.h).
 */
#include "tui/config.h"

#include "core/acquire.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A folder or file a user may take settings from: not a symlink, theirs (or
 * root's), not writable by group or others.  0, or -1 with the reason. */
static int trusted(const char *path, const struct stat *st, int want_dir, char *err, size_t errlen)
{
    const char *why = NULL;
    if (S_ISLNK(st->st_mode)) why = "is a symbolic link";
    else if (want_dir && !S_ISDIR(st->st_mode)) why = "is not a directory";
    else if (!want_dir && !S_ISREG(st->st_mode)) why = "is not a regular file";
    else if (st->st_uid != getuid() && st->st_uid != 0) why = "is owned by another user";
    else if (st->st_mode & (S_IWGRP | S_IWOTH)) why = "is writable by group or others";
    if (!why) return 0;
    snprintf(err, errlen, "%s %s; refusing to read settings from it (uid %u may not trust it)", path, why,
             (unsigned)getuid());
    return -1;
}

int tui_config_path(const char *name, char *buf, size_t cap, char *err, size_t errlen)
{
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    char dir[4096];
    if (xdg && xdg[0] == '/') snprintf(dir, sizeof dir, "%s/zoosh", xdg);   /* a relative one is ignored (XDG spec) */
    else if (home && *home) snprintf(dir, sizeof dir, "%s/.config/zoosh", home);
    else return 0;
    struct stat st;
    if (lstat(dir, &st) != 0) return 0;
    if (trusted(dir, &st, 1, err, errlen)) return -1;
    /* the folder holding it (it may be a symlink, ~/.config often is): one
     * whose owner is someone else, or that others may write without the
     * sticky bit, could have zoosh/ swapped under us */
    char parent[4096];
    snprintf(parent, sizeof parent, "%s", dir);
    *strrchr(parent, '/') = 0;
    struct stat ps;
    if (stat(parent[0] ? parent : "/", &ps) == 0 &&
        ((ps.st_uid != getuid() && ps.st_uid != 0) || ((ps.st_mode & (S_IWGRP | S_IWOTH)) && !(ps.st_mode & S_ISVTX)))) {
        snprintf(err, errlen, "%s: its folder %s is another user's or writable by others; refusing to read settings "
                 "from it", dir, parent);
        return -1;
    }
    if ((size_t)snprintf(buf, cap, "%s/%s", dir, name) >= cap) {
        snprintf(err, errlen, "%s/%s: path too long", dir, name);
        return -1;
    }
    if (lstat(buf, &st) != 0) {
        if (errno == ENOENT) return 0;
        snprintf(err, errlen, "%s: %s", buf, strerror(errno));
        return -1;
    }
    return trusted(buf, &st, 0, err, errlen) ? -1 : 1;
}

/* One "name = value" setting into *c: 0, or -1 with what is wrong in err. */
static int setting(tui_config *c, const char *name, const char *value, char *err, size_t errlen)
{
    if (strcmp(name, "graphics") == 0) {
        if (tui_gfx_parse(value, &c->graphics) != 0) {
            snprintf(err, errlen, "graphics: '%.40s' is not %s", value, tui_gfx_names());
            return -1;
        }
        c->has_graphics = 1;
    } else if (strcmp(name, "order") == 0) {
        core_order ord;
        if (strlen(value) >= sizeof c->order || core_order_parse(value, &ord) != 0) {
            snprintf(err, errlen, "order: '%.40s' is not one of %s", value, core_order_names());
            return -1;
        }
        snprintf(c->order, sizeof c->order, "%s", value);
    } else if (strcmp(name, "retire") == 0) {
        char *end;
        errno = 0;
        long v = strtol(value, &end, 10);
        if (!*value || *end || errno || v < 1 || v > 1000000) {
            snprintf(err, errlen, "retire: '%.40s' is not a count >= 1", value);
            return -1;
        }
        c->retire = (int)v;
    } else if (strcmp(name, "finetune") == 0) {
        if (strcmp(value, "on") && strcmp(value, "off")) {
            snprintf(err, errlen, "finetune: '%.40s' is not on or off", value);
            return -1;
        }
        c->finetune = strcmp(value, "on") ? -1 : 1;
    } else {
        snprintf(err, errlen, "unknown setting '%.40s' (graphics, order, retire, finetune)", name);
        return -1;
    }
    return 0;
}

int tui_config_read(const char *path, tui_config *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    char line[512], msg[256];
    int lineno = 0, status = 0;
    while (!status && fgets(line, sizeof line, f)) {
        lineno++;
        size_t n = strlen(line);
        if (n == sizeof line - 1 && line[n - 1] != '\n') {
            snprintf(msg, sizeof msg, "line too long");
            status = -1;
            break;
        }
        line[strcspn(line, "\r\n")] = 0;
        char *p = line + strspn(line, " \t");
        if (!*p || *p == '#') continue;
        char *eq = strchr(p, '=');
        if (!eq) {
            snprintf(msg, sizeof msg, "not 'name = value'");
            status = -1;
            break;
        }
        char *ne = eq;
        while (ne > p && (ne[-1] == ' ' || ne[-1] == '\t')) ne--;
        *ne = 0;
        char *v = eq + 1 + strspn(eq + 1, " \t");
        char *ve = v + strlen(v);
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) *--ve = 0;
        status = setting(c, p, v, msg, sizeof msg);
    }
    if (!status && ferror(f)) { snprintf(err, errlen, "%s: %s", path, strerror(errno)); status = -2; }
    fclose(f);
    if (status == -1) snprintf(err, errlen, "%s:%d: %s", path, lineno, msg);
    return status ? -1 : 0;
}
