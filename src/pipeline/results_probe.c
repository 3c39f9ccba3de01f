#include "pipeline/results_probe.h"

#include <hdf5.h>

bool tk_results_probe(const char *path)
{
    H5E_auto2_t old_func;
    void *old_data;
    H5Eget_auto2(H5E_DEFAULT, &old_func, &old_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    bool yes = false;
    if (H5Fis_hdf5(path) > 0) {
        hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
        if (file >= 0) {
            static const char *const groups[] = {"reviews", "tokens", "predictions", "progress"};
            yes = true;
            for (int i = 0; i < 4 && yes; i++)
                yes = H5Lexists(file, groups[i], H5P_DEFAULT) > 0;
            H5Fclose(file);
        }
    }
    H5Eset_auto2(H5E_DEFAULT, old_func, old_data);
    return yes;
}
