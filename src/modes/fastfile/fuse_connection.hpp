// A FastFile mount's kernel side, named by the mount's device number: its bdi (the kernel's
// read-ahead for it) and its FUSE connection in the fusectl file system (ending it).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace sluice::modes::fastfile {

// Sets the kernel read-ahead of the mount's bdi ("0:N" for a FUSE mount) to `kb` KiB; 0 leaves it.
// A failure is only logged (debug): the mount works without it. `mp` names the mount in the log.
void raise_read_ahead(dev_t dev, uint32_t kb, const std::string& mp);

// Ends the FUSE connection through the fusectl file system (mounting it where systemd would, when
// it is not mounted and we are root). Open files of the mount then fail with ENOTCONN. False when
// the connection could not be reached.
bool abort_connection(dev_t dev);

}  // namespace sluice::modes::fastfile
