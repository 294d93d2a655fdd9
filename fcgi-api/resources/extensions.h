/* extensions.h — the fixed extension list Nova serves at /extensions (data,
 * included by extensions.c): EXTENSION(alias, name, description,
 * legacy-only), sorted by alias. Legacy-only rows appear under /v2 only
 * (Nova's "v2.1 compatible" list adds them). */
EXTENSION("NMN", "Multinic", "Multiple network support.", 0)
EXTENSION("OS-DCF", "DiskConfig", "Disk Management Extension.", 0)
EXTENSION("OS-EXT-AZ", "ExtendedAvailabilityZone", "Extended Availability Zone support.", 0)
EXTENSION("OS-EXT-IMG-SIZE", "ImageSize", "Adds image size to image listings.", 0)
EXTENSION("OS-EXT-IPS", "ExtendedIps", "Adds type parameter to the ip list.", 0)
EXTENSION("OS-EXT-IPS-MAC", "ExtendedIpsMac", "Adds mac address parameter to the ip list.", 0)
EXTENSION("OS-EXT-SRV-ATTR", "ExtendedServerAttributes", "Extended Server Attributes support.", 0)
EXTENSION("OS-EXT-STS", "ExtendedStatus", "Extended Status support.", 0)
EXTENSION("OS-EXT-VIF-NET", "ExtendedVIFNet",
          "Adds network id parameter to the virtual interface list.", 1)
EXTENSION("OS-FLV-DISABLED", "FlavorDisabled", "Support to show the disabled status of a flavor.",
          0)
EXTENSION("OS-FLV-EXT-DATA", "FlavorExtraData", "Provide additional data for flavors.", 0)
EXTENSION("OS-SCH-HNT", "SchedulerHints", "Pass arbitrary key/value pairs to the scheduler.", 0)
EXTENSION("OS-SRV-USG", "ServerUsage", "Adds launched_at and terminated_at on Servers.", 0)
EXTENSION("os-access-ips", "AccessIPs", "Access IPs support.", 0)
EXTENSION("os-admin-actions", "AdminActions",
          "Enable admin-only server actions\n\n    Actions include: resetNetwork, "
          "injectNetworkInfo, os-resetState\n    ",
          0)
EXTENSION("os-admin-password", "AdminPassword", "Admin password management support.", 0)
EXTENSION("os-agents", "Agents", "Agents support.", 0)
EXTENSION("os-aggregates", "Aggregates", "Admin-only aggregate administration.", 0)
EXTENSION("os-assisted-volume-snapshots", "AssistedVolumeSnapshots", "Assisted volume snapshots.",
          0)
EXTENSION("os-attach-interfaces", "AttachInterfaces", "Attach interface support.", 0)
EXTENSION("os-availability-zone", "AvailabilityZone",
          "1. Add availability_zone to the Create Server API.\n       2. Add availability zones "
          "describing.\n    ",
          0)
EXTENSION("os-baremetal-ext-status", "BareMetalExtStatus",
          "Add extended status in Baremetal Nodes v2 API.", 0)
EXTENSION("os-baremetal-nodes", "BareMetalNodes", "Admin-only bare-metal node administration.", 0)
EXTENSION("os-block-device-mapping", "BlockDeviceMapping", "Block device mapping boot support.", 0)
EXTENSION("os-block-device-mapping-v2-boot", "BlockDeviceMappingV2Boot",
          "Allow boot with the new BDM data format.", 0)
EXTENSION("os-cell-capacities", "CellCapacities", "Adding functionality to get cell capacities.", 0)
EXTENSION("os-cells", "Cells",
          "Enables cells-related functionality such as adding neighbor cells,\n    listing "
          "neighbor cells, and getting the capabilities of the local cell.\n    ",
          0)
EXTENSION("os-certificates", "Certificates", "Certificates support.", 0)
EXTENSION("os-cloudpipe", "Cloudpipe",
          "Adds actions to create cloudpipe instances.\n\n    When running with the Vlan network "
          "mode, you need a mechanism to route\n    from the public Internet to your vlans.  This "
          "mechanism is known as a\n    cloudpipe.\n\n    At the time of creating this class, only "
          "OpenVPN is supported.  Support for\n    a SSH Bastion host is forthcoming.\n    ",
          0)
EXTENSION("os-cloudpipe-update", "CloudpipeUpdate",
          "Adds the ability to set the vpn ip/port for cloudpipe instances.", 0)
EXTENSION("os-config-drive", "ConfigDrive", "Config Drive Extension.", 0)
EXTENSION("os-console-auth-tokens", "ConsoleAuthTokens", "Console token authentication support.", 0)
EXTENSION("os-console-output", "ConsoleOutput", "Console log output support, with tailing ability.",
          0)
EXTENSION("os-consoles", "Consoles", "Interactive Console support.", 0)
EXTENSION("os-create-backup", "CreateBackup", "Create a backup of a server.", 0)
EXTENSION("os-create-server-ext", "Createserverext",
          "Extended support to the Create Server v1.1 API.", 0)
EXTENSION("os-deferred-delete", "DeferredDelete", "Instance deferred delete.", 0)
EXTENSION("os-evacuate", "Evacuate", "Enables server evacuation.", 0)
EXTENSION("os-extended-evacuate-find-host", "ExtendedEvacuateFindHost",
          "Enables server evacuation without target host. Scheduler will select one to target.", 0)
EXTENSION("os-extended-floating-ips", "ExtendedFloatingIps",
          "Adds optional fixed_address to the add floating IP command.", 0)
EXTENSION("os-extended-hypervisors", "ExtendedHypervisors", "Extended hypervisors support.", 0)
EXTENSION("os-extended-networks", "ExtendedNetworks", "Adds additional fields to networks.", 0)
EXTENSION("os-extended-quotas", "ExtendedQuotas",
          "Adds ability for admins to delete quota and optionally force the update Quota command.",
          0)
EXTENSION("os-extended-rescue-with-image", "ExtendedRescueWithImage",
          "Allow the user to specify the image to use for rescue.", 0)
EXTENSION("os-extended-services", "ExtendedServices", "Extended services support.", 0)
EXTENSION("os-extended-services-delete", "ExtendedServicesDelete",
          "Extended services deletion support.", 0)
EXTENSION("os-extended-status", "ExtendedStatus", "Extended Status support.", 0)
EXTENSION("os-extended-volumes", "ExtendedVolumes", "Extended Volumes support.", 0)
EXTENSION("os-fixed-ips", "FixedIPs", "Fixed IPs support.", 0)
EXTENSION("os-flavor-access", "FlavorAccess", "Flavor access support.", 0)
EXTENSION("os-flavor-extra-specs", "FlavorExtraSpecs", "Flavors extra specs support.", 0)
EXTENSION("os-flavor-manage", "FlavorManage", "Flavor create/delete API support.", 0)
EXTENSION("os-flavor-rxtx", "FlavorRxtx", "Support to show the rxtx status of a flavor.", 0)
EXTENSION("os-flavor-swap", "FlavorSwap", "Support to show the swap status of a flavor.", 0)
EXTENSION("os-floating-ip-dns", "FloatingIpDns", "Floating IP DNS support.", 0)
EXTENSION("os-floating-ip-pools", "FloatingIpPools", "Floating IPs support.", 0)
EXTENSION("os-floating-ips", "FloatingIps", "Floating IPs support.", 0)
EXTENSION("os-floating-ips-bulk", "FloatingIpsBulk", "Bulk handling of Floating IPs.", 0)
EXTENSION("os-fping", "Fping", "Fping Management Extension.", 0)
EXTENSION("os-hide-server-addresses", "HideServerAddresses",
          "Support hiding server addresses in certain states.", 0)
EXTENSION("os-hosts", "Hosts", "Admin-only host administration.", 0)
EXTENSION("os-hypervisor-status", "HypervisorStatus", "Show hypervisor status.", 0)
EXTENSION("os-hypervisors", "Hypervisors", "Admin-only hypervisor administration.", 0)
EXTENSION("os-instance-actions", "InstanceActions",
          "View a log of actions and events taken on an instance.", 0)
EXTENSION("os-instance_usage_audit_log", "OSInstanceUsageAuditLog",
          "Admin-only Task Log Monitoring.", 0)
EXTENSION("os-keypairs", "Keypairs", "Keypair Support.", 0)
EXTENSION("os-lock-server", "LockServer", "Enable lock/unlock server actions.", 0)
EXTENSION("os-migrate-server", "MigrateServer", "Enable migrate and live-migrate server actions.",
          0)
EXTENSION("os-migrations", "Migrations", "Provide data on migrations.", 0)
EXTENSION("os-multiple-create", "MultipleCreate",
          "Allow multiple create in the Create Server v2.1 API.", 0)
EXTENSION("os-networks", "Networks", "Admin-only Network Management Extension.", 0)
EXTENSION("os-networks-associate", "NetworkAssociationSupport", "Network association support.", 0)
EXTENSION("os-pause-server", "PauseServer", "Enable pause/unpause server actions.", 0)
EXTENSION("os-personality", "Personality", "Personality support.", 0)
EXTENSION("os-preserve-ephemeral-rebuild", "PreserveEphemeralOnRebuild",
          "Allow preservation of the ephemeral partition on rebuild.", 0)
EXTENSION("os-quota-class-sets", "QuotaClasses", "Quota classes management support.", 0)
EXTENSION("os-quota-sets", "Quotas", "Quotas management support.", 0)
EXTENSION("os-rescue", "Rescue", "Instance rescue mode.", 0)
EXTENSION("os-security-group-default-rules", "SecurityGroupDefaultRules",
          "Default rules for security group support.", 0)
EXTENSION("os-security-groups", "SecurityGroups", "Security group support.", 0)
EXTENSION("os-server-diagnostics", "ServerDiagnostics",
          "Allow Admins to view server diagnostics through server action.", 0)
EXTENSION("os-server-external-events", "ServerExternalEvents", "Server External Event Triggers.", 0)
EXTENSION("os-server-group-quotas", "ServerGroupQuotas", "Adds quota support to server groups.", 0)
EXTENSION("os-server-groups", "ServerGroups", "Server group support.", 0)
EXTENSION("os-server-list-multi-status", "ServerListMultiStatus",
          "Allow to filter the servers by a set of status values.", 0)
EXTENSION("os-server-password", "ServerPassword", "Server password support.", 0)
EXTENSION("os-server-sort-keys", "ServerSortKeys", "Add sorting support in get Server v2 API.", 0)
EXTENSION("os-server-start-stop", "ServerStartStop", "Start/Stop instance compute API support.", 0)
EXTENSION("os-services", "Services", "Services support.", 0)
EXTENSION("os-shelve", "Shelve", "Instance shelve mode.", 0)
EXTENSION("os-simple-tenant-usage", "SimpleTenantUsage", "Simple tenant usage extension.", 0)
EXTENSION("os-suspend-server", "SuspendServer", "Enable suspend/resume server actions.", 0)
EXTENSION("os-tenant-networks", "OSTenantNetworks", "Tenant-based Network Management Extension.", 0)
EXTENSION("os-used-limits", "UsedLimits", "Provide data on limited resources that are being used.",
          0)
EXTENSION("os-used-limits-for-admin", "UsedLimitsForAdmin",
          "Provide data to admin on limited resources used by other tenants.", 0)
EXTENSION("os-user-data", "UserData", "Add user_data to the Create Server API.", 0)
EXTENSION("os-user-quotas", "UserQuotas", "Project user quota support.", 0)
EXTENSION("os-virtual-interfaces", "VirtualInterfaces", "Virtual interface support.", 0)
EXTENSION("os-volume-attachment-update", "VolumeAttachmentUpdate",
          "Support for updating a volume attachment.", 0)
EXTENSION("os-volumes", "Volumes", "Volumes support.", 0)
