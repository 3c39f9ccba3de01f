#include "model/model_tags.h"

#include <hdf5.h>
#include <string.h>

tk_status tk_model_tag_write(const char *path, const char *name, const char *value, tk_error *err)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    if (f < 0)
        return tk_error_set(err, TK_E_IO, "%s: cannot open for writing the tag %s", path, name);
    hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR), a = H5I_INVALID_HID;
    herr_t r = -1;
    if (t >= 0 && sp >= 0 && H5Tset_size(t, H5T_VARIABLE) >= 0 &&
        H5Tset_cset(t, H5T_CSET_UTF8) >= 0 && (H5Aexists(f, name) <= 0 || H5Adelete(f, name) >= 0) &&
        (a = H5Acreate2(f, name, t, sp, H5P_DEFAULT, H5P_DEFAULT)) >= 0)
        r = H5Awrite(a, t, &value);
    if (a >= 0)
        H5Aclose(a);
    if (sp >= 0)
        H5Sclose(sp);
    if (t >= 0)
        H5Tclose(t);
    if (H5Fclose(f) < 0)
        r = -1;
    if (r < 0)
        return tk_error_set(err, TK_E_IO, "%s: cannot write the attribute %s", path, name);
    return TK_OK;
}

tk_status tk_model_tag_read(const char *path, const char *name, char *buf, size_t size, bool *found,
                            tk_error *err)
{
    *found = false;
    if (size > 0)
        buf[0] = '\0';
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return tk_error_set(err, TK_E_IO, "%s: cannot open as HDF5", path);
    tk_status st = TK_OK;
    hid_t a = H5I_INVALID_HID, ft = H5I_INVALID_HID, sp = H5I_INVALID_HID, mt = H5I_INVALID_HID;
    if (H5Aexists(f, name) <= 0)
        goto done;
    if ((a = H5Aopen(f, name, H5P_DEFAULT)) < 0 || (ft = H5Aget_type(a)) < 0 ||
        (sp = H5Aget_space(a)) < 0 || H5Tget_class(ft) != H5T_STRING ||
        H5Sget_simple_extent_npoints(sp) != 1) {
        st = tk_error_set(err, TK_E_FORMAT, "%s: attribute %s is not one string", path, name);
        goto done;
    }
    if (H5Tis_variable_str(ft) > 0) {
        char *v = NULL;
        mt = H5Tcopy(H5T_C_S1);
        if (mt < 0 || H5Tset_size(mt, H5T_VARIABLE) < 0 || H5Aread(a, mt, &v) < 0) {
            st = tk_error_set(err, TK_E_FORMAT, "%s: attribute %s cannot be read", path, name);
            goto done;
        }
        size_t n = v ? strlen(v) : 0;
        if (n < size)
            memcpy(buf, v ? v : "", n + 1);
        else
            st = tk_error_set(err, TK_E_FORMAT, "%s: attribute %s is too long", path, name);
        H5free_memory(v);
    } else {
        size_t n = H5Tget_size(ft);
        mt = H5Tcopy(H5T_C_S1);
        if (n == 0 || n >= size || mt < 0 || H5Tset_size(mt, n + 1) < 0 ||
            H5Tset_strpad(mt, H5T_STR_NULLTERM) < 0 || H5Aread(a, mt, buf) < 0) {
            st = tk_error_set(err, TK_E_FORMAT, "%s: attribute %s is too long or unreadable", path,
                              name);
            if (size > 0)
                buf[0] = '\0';
            goto done;
        }
    }
    *found = st == TK_OK;
done:
    if (mt >= 0)
        H5Tclose(mt);
    if (sp >= 0)
        H5Sclose(sp);
    if (ft >= 0)
        H5Tclose(ft);
    if (a >= 0)
        H5Aclose(a);
    H5Fclose(f);
    return st;
}
