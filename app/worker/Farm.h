// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QStringList>

namespace Atelier::Worker
{
    /// `atelier-worker farm-host --out DIR --run RUN [--listen HOST:PORT] [--lease-timeout MS] [--max-attempts N]
    /// [--json]`: the farm's coordinator, which `atelier farm serve` becomes once the plan is published. Hosts a
    /// c10d TCPStore on a socket bound to the one address it is given (this host's own by default, never every
    /// interface unless told 0.0.0.0), offers the items the folder still lacks, admits workers that prove the
    /// run's token, takes back the leases of silent workers, shows the run as --batch does, and ends when every item
    /// is committed or failed. Exit codes as --batch's.
    int runFarmHost(const QStringList& arguments);

    /// `atelier-worker farm (--out DIR | --store HOST:PORT) [--devices LIST] [--node NAME] [--threads N]`: one node's
    /// share of a farm. Joins the run, then runs the local coordinator (workers per device, batching, crash restarts,
    /// out-of-memory retries) with the farm's leases as its source of jobs and the shared folder as where images are
    /// committed. Without --devices: cuda:LOCAL_RANK (torchrun) or cuda:SLURM_LOCALID (srun) when CUDA is there,
    /// else the CPU. Reconnects with backoff when the store goes away, finishing what it renders meanwhile.
    int runFarmNode(const QStringList& arguments);
} // namespace Atelier::Worker
