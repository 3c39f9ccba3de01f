/* h5_to_script FILE.h5 [MAX_ELEMS]: prints the h5_script (h5_script.h) that
 * rebuilds FILE's groups, datasets and attributes, for seed corpora.
 * Datasets with more than MAX_ELEMS (default 4096) elements are cut to
 * their first rows: the first dimension shrinks until the rest fits, so
 * seeds stay small (a results file's 88,000-word vocabulary becomes its
 * first words). */
#define _POSIX_C_SOURCE 200809L
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long long max_elems = 4096;

static void put_string(const char *s, size_t len)
{
    if (len == 0) {
        fputs("%00", stdout); /* one token that decodes to "" */
        return;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c == '%' || c >= 0x7F)
            printf("%%%02X", c);
        else
            putchar(c);
    }
}

static const char *kind_of(hid_t type)
{
    H5T_class_t cls = H5Tget_class(type);
    size_t size = H5Tget_size(type);
    if (cls == H5T_STRING) {
        int utf8 = H5Tget_cset(type) == H5T_CSET_UTF8;
        if (H5Tis_variable_str(type) > 0)
            return utf8 ? "ustr" : "str";
        if (H5Tget_strpad(type) == H5T_STR_NULLPAD)
            return utf8 ? "upfstr" : "pfstr";
        return utf8 ? "ufstr" : "fstr";
    }
    if (cls == H5T_FLOAT)
        return size == 4 ? "f32" : "f64";
    if (cls == H5T_INTEGER || cls == H5T_ENUM) {
        int is_signed = H5Tget_sign(type) == H5T_SGN_2;
        switch (size) {
        case 1: return is_signed ? "i8" : "u8";
        case 2: return "i16";
        case 4: return is_signed ? "i32" : "u32";
        default: return "i64";
        }
    }
    return NULL;
}

/* Prints TYPE DIMS VALUE... of a dataset or attribute. */
static void put_values(hid_t type, hid_t space, int is_attr, hid_t obj)
{
    const char *k = kind_of(type);
    int rank = H5Sget_simple_extent_ndims(space);
    hsize_t dims[8] = {0};
    if (k == NULL || rank < 0 || rank > 3) {
        printf("u8 -\n");
        return;
    }
    H5Sget_simple_extent_dims(space, dims, NULL);
    long long row = 1;
    for (int i = 1; i < rank; i++)
        row *= (long long)dims[i];
    if (rank > 0 && row > 0 && (long long)dims[0] * row > max_elems)
        dims[0] = (hsize_t)(max_elems / row > 0 ? max_elems / row : 1);
    printf("%s ", k);
    if (rank == 0)
        printf("-");
    for (int i = 0; i < rank; i++)
        printf("%s%llu", i ? "," : "", (unsigned long long)dims[i]);
    long long n = H5Sget_simple_extent_npoints(space);
    if (n <= 0) {
        printf("\n");
        return;
    }
    hid_t mem;
    int vlen = 0;
    if (strstr(k, "str") != NULL) {
        mem = H5Tcopy(H5T_C_S1);
        vlen = H5Tis_variable_str(type) > 0;
        H5Tset_size(mem, vlen ? H5T_VARIABLE : H5Tget_size(type));
        H5Tset_cset(mem, H5Tget_cset(type));
        if (!vlen)
            H5Tset_strpad(mem, H5Tget_strpad(type));
    } else {
        mem = H5Tcopy(k[0] == 'f' ? H5T_NATIVE_DOUBLE : H5T_NATIVE_LLONG);
    }
    size_t esize = H5Tget_size(mem);
    char *buf = calloc((size_t)n, esize);
    herr_t rc = is_attr ? H5Aread(obj, mem, buf) : H5Dread(obj, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    long long show = 1;
    for (int i = 0; i < rank; i++)
        show *= (long long)dims[i];
    for (long long i = 0; rc >= 0 && i < show; i++) {
        putchar(' ');
        char *e = buf + (size_t)i * esize;
        if (vlen) {
            char *s = *(char **)e;
            put_string(s ? s : "", s ? strlen(s) : 0);
        } else if (strstr(k, "str") != NULL) {
            put_string(e, strnlen(e, esize));
        } else if (k[0] == 'f') {
            printf("%.9g", *(double *)e);
        } else {
            printf("%lld", *(long long *)e);
        }
    }
    printf("\n");
    if (vlen && rc >= 0)
        H5Dvlen_reclaim(mem, space, H5P_DEFAULT, buf);
    free(buf);
    H5Tclose(mem);
}

static herr_t put_attr(hid_t obj, const char *name, const H5A_info_t *info, void *path)
{
    (void)info;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    hid_t t = H5Aget_type(a), s = H5Aget_space(a);
    printf("attr %s ", (const char *)path);
    put_string(name, strlen(name));
    putchar(' ');
    put_values(t, s, 1, a);
    H5Sclose(s);
    H5Tclose(t);
    H5Aclose(a);
    return 0;
}

static herr_t visit(hid_t root, const char *name, const H5O_info_t *info, void *unused)
{
    (void)unused;
    char path[2048];
    snprintf(path, sizeof path, "%s%s", strcmp(name, ".") == 0 ? "" : "/", strcmp(name, ".") == 0 ? "/" : name);
    hid_t obj = H5Oopen(root, name, H5P_DEFAULT);
    if (info->type == H5O_TYPE_GROUP) {
        if (strcmp(path, "/") != 0)
            printf("group %s\n", path);
    } else if (info->type == H5O_TYPE_DATASET) {
        hid_t t = H5Dget_type(obj), s = H5Dget_space(obj);
        printf("dset %s ", path);
        put_values(t, s, 0, obj);
        H5Sclose(s);
        H5Tclose(t);
    }
    H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_INC, NULL, put_attr, path);
    H5Oclose(obj);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: h5_to_script FILE.h5 [MAX_ELEMS]\n");
        return 2;
    }
    if (argc > 2)
        max_elems = atoll(argv[2]);
    hid_t f = H5Fopen(argv[1], H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return 1;
    H5Ovisit2(f, H5_INDEX_NAME, H5_ITER_INC, visit, NULL, H5O_INFO_BASIC);
    H5Fclose(f);
    return 0;
}
