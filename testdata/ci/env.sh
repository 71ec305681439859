# Variables the tests read (sourced by setup.sh and test.sh). Tests never hard-code these paths.
export DBUILD_TEST_STATE="${DBUILD_TEST_STATE:-/var/tmp/dbuild-test}"
export DBUILD_TEST_DOCKER_HOST="${DBUILD_TEST_DOCKER_HOST:-unix://$DBUILD_TEST_STATE/docker.sock}"
export DBUILD_TEST_BUSYBOX_OCI="${DBUILD_TEST_BUSYBOX_OCI:-$DBUILD_TEST_STATE/busybox-oci}"
export DBUILD_TEST_FOREIGN_BASES="${DBUILD_TEST_FOREIGN_BASES:-$DBUILD_TEST_STATE/foreign-bases}"
export DBUILD_TEST_DEBIAN_OCI="${DBUILD_TEST_DEBIAN_OCI:-$DBUILD_TEST_STATE/debian-oci}"
