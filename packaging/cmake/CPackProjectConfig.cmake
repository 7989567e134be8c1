# Read by cpack once per generator (CPACK_PROJECT_CONFIG_FILE). The .deb installs under /usr; the tarball unpacks
# to a self-contained folder (atelier-VERSION-FLAVOUR-linux-x86_64/bin, lib, share) that runs from wherever it lies.
if(CPACK_GENERATOR STREQUAL "TGZ")
    set(CPACK_PACKAGING_INSTALL_PREFIX "/")
endif()
