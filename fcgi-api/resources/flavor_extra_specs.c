/* flavor_extra_specs.c — /flavors/{flavor_id}/os-extra_specs: list, show,
 * create/update (upsert) and delete a flavor's extra specs. From 2.86 the
 * keys Nova knows are validated: the table below is that knowledge as data
 * (key or key pattern, value rule), with Nova's rule that an unknown key in
 * a known namespace is refused and anything else is let through. */
#include <limits.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "resources/flavors.h"

/* One known extra spec. `name` is the key, or a (Python-style) regex when it
 * contains '('; rule by type: 's' any string, 'e' one of `rule` (", "
 * separated), 'p' a string matching regex `rule`, 'i' an integer within
 * [min, max], 'b' a boolean-like string. With `names`, the key's last group
 * must also be one of those (os-traits, os-resource-classes standards). */
struct xspec {
    const char *name;
    char type;
    const char *rule;
    long long min, max;
    const char *const *names;
};
/* clang-format off */
#define NOMIN LLONG_MIN
#define NOMAX LLONG_MAX
#define ANY(key) {key, 's', NULL, NOMIN, NOMAX, NULL}
#define BOOL(key) {key, 'b', NULL, NOMIN, NOMAX, NULL}
#define ONE_OF(key, values) {key, 'e', values, NOMIN, NOMAX, NULL}
#define FORMAT(key, regex) {key, 'p', regex, NOMIN, NOMAX, NULL}
#define INT(key, min, max) {key, 'i', NULL, min, max, NULL}

/* The standard traits and resource classes (os-traits, os-resource-classes). */
static const char *const std_traits[] = {
    "COMPUTE_ACCELERATORS", "COMPUTE_ADDRESS_SPACE_EMULATED", "COMPUTE_ADDRESS_SPACE_PASSTHROUGH",
    "COMPUTE_ARCH_AARCH64", "COMPUTE_ARCH_MIPSEL", "COMPUTE_ARCH_PPC64LE", "COMPUTE_ARCH_RISCV64",
    "COMPUTE_ARCH_S390X", "COMPUTE_ARCH_X86_64", "COMPUTE_CONFIG_DRIVE_REGENERATION",
    "COMPUTE_DEVICE_TAGGING", "COMPUTE_EPHEMERAL_ENCRYPTION", "COMPUTE_EPHEMERAL_ENCRYPTION_LUKS",
    "COMPUTE_EPHEMERAL_ENCRYPTION_LUKSV2", "COMPUTE_EPHEMERAL_ENCRYPTION_PLAIN",
    "COMPUTE_FIRMWARE_BIOS", "COMPUTE_FIRMWARE_UEFI", "COMPUTE_GRAPHICS_MODEL_BOCHS",
    "COMPUTE_GRAPHICS_MODEL_CIRRUS", "COMPUTE_GRAPHICS_MODEL_GOP", "COMPUTE_GRAPHICS_MODEL_NONE",
    "COMPUTE_GRAPHICS_MODEL_QXL", "COMPUTE_GRAPHICS_MODEL_VGA", "COMPUTE_GRAPHICS_MODEL_VIRTIO",
    "COMPUTE_GRAPHICS_MODEL_VMVGA", "COMPUTE_GRAPHICS_MODEL_XEN", "COMPUTE_IMAGE_TYPE_AKI",
    "COMPUTE_IMAGE_TYPE_AMI", "COMPUTE_IMAGE_TYPE_ARI", "COMPUTE_IMAGE_TYPE_ISO",
    "COMPUTE_IMAGE_TYPE_PLOOP", "COMPUTE_IMAGE_TYPE_QCOW2", "COMPUTE_IMAGE_TYPE_RAW",
    "COMPUTE_IMAGE_TYPE_VDI", "COMPUTE_IMAGE_TYPE_VHD", "COMPUTE_IMAGE_TYPE_VHDX",
    "COMPUTE_IMAGE_TYPE_VMDK", "COMPUTE_MANAGED_PCI_DEVICE", "COMPUTE_MEM_BACKING_FILE",
    "COMPUTE_MIGRATE_AUTO_CONVERGE", "COMPUTE_MIGRATE_POST_COPY", "COMPUTE_NET_ATTACH_INTERFACE",
    "COMPUTE_NET_ATTACH_INTERFACE_WITH_TAG", "COMPUTE_NET_VIF_MODEL_E1000",
    "COMPUTE_NET_VIF_MODEL_E1000E", "COMPUTE_NET_VIF_MODEL_IGB", "COMPUTE_NET_VIF_MODEL_LAN9118",
    "COMPUTE_NET_VIF_MODEL_NE2K_PCI", "COMPUTE_NET_VIF_MODEL_NETFRONT",
    "COMPUTE_NET_VIF_MODEL_PCNET", "COMPUTE_NET_VIF_MODEL_RTL8139",
    "COMPUTE_NET_VIF_MODEL_SPAPR_VLAN", "COMPUTE_NET_VIF_MODEL_SRIOV",
    "COMPUTE_NET_VIF_MODEL_VIRTIO", "COMPUTE_NET_VIF_MODEL_VMXNET",
    "COMPUTE_NET_VIF_MODEL_VMXNET3", "COMPUTE_NET_VIRTIO_PACKED", "COMPUTE_NODE",
    "COMPUTE_REMOTE_MANAGED_PORTS", "COMPUTE_RESCUE_BFV", "COMPUTE_SAME_HOST_COLD_MIGRATE",
    "COMPUTE_SECURITY_STATELESS_FIRMWARE", "COMPUTE_SECURITY_TPM_1_2", "COMPUTE_SECURITY_TPM_2_0",
    "COMPUTE_SECURITY_TPM_CRB", "COMPUTE_SECURITY_TPM_SECRET_SECURITY_DEPLOYMENT",
    "COMPUTE_SECURITY_TPM_SECRET_SECURITY_HOST", "COMPUTE_SECURITY_TPM_SECRET_SECURITY_USER",
    "COMPUTE_SECURITY_TPM_TIS", "COMPUTE_SECURITY_UEFI_SECURE_BOOT", "COMPUTE_SHARE_LOCAL_FS",
    "COMPUTE_SOCKET_PCI_NUMA_AFFINITY", "COMPUTE_SOUND_MODEL_AC97", "COMPUTE_SOUND_MODEL_ES1370",
    "COMPUTE_SOUND_MODEL_ICH6", "COMPUTE_SOUND_MODEL_ICH9", "COMPUTE_SOUND_MODEL_PCSPK",
    "COMPUTE_SOUND_MODEL_SB16", "COMPUTE_SOUND_MODEL_USB", "COMPUTE_SOUND_MODEL_VIRTIO",
    "COMPUTE_STATUS_DISABLED", "COMPUTE_STORAGE_BUS_FDC", "COMPUTE_STORAGE_BUS_IDE",
    "COMPUTE_STORAGE_BUS_LXC", "COMPUTE_STORAGE_BUS_SATA", "COMPUTE_STORAGE_BUS_SCSI",
    "COMPUTE_STORAGE_BUS_UML", "COMPUTE_STORAGE_BUS_USB", "COMPUTE_STORAGE_BUS_VIRTIO",
    "COMPUTE_STORAGE_BUS_XEN", "COMPUTE_STORAGE_VIRTIO_FS", "COMPUTE_TRUSTED_CERTS",
    "COMPUTE_USB_MODEL_NEC_XHCI", "COMPUTE_USB_MODEL_QEMU_XHCI", "COMPUTE_VIOMMU_MODEL_AUTO",
    "COMPUTE_VIOMMU_MODEL_INTEL", "COMPUTE_VIOMMU_MODEL_SMMUV3", "COMPUTE_VIOMMU_MODEL_VIRTIO",
    "COMPUTE_VOLUME_ATTACH", "COMPUTE_VOLUME_ATTACH_WITH_TAG", "COMPUTE_VOLUME_EXTEND",
    "COMPUTE_VOLUME_MULTI_ATTACH", "HW_ARCH_AARCH64", "HW_ARCH_ALPHA", "HW_ARCH_ARMV6",
    "HW_ARCH_ARMV7", "HW_ARCH_ARMV7B", "HW_ARCH_CRIS", "HW_ARCH_I686", "HW_ARCH_IA64",
    "HW_ARCH_LM32", "HW_ARCH_M68K", "HW_ARCH_MICROBLAZE", "HW_ARCH_MICROBLAZEEL", "HW_ARCH_MIPS",
    "HW_ARCH_MIPS64", "HW_ARCH_MIPS64EL", "HW_ARCH_MIPSEL", "HW_ARCH_OPENRISC", "HW_ARCH_PARISC",
    "HW_ARCH_PARISC64", "HW_ARCH_PPC", "HW_ARCH_PPC64", "HW_ARCH_PPC64LE", "HW_ARCH_PPCEMB",
    "HW_ARCH_PPCLE", "HW_ARCH_S390", "HW_ARCH_S390X", "HW_ARCH_SH4", "HW_ARCH_SH4EB",
    "HW_ARCH_SPARC", "HW_ARCH_SPARC64", "HW_ARCH_UNICORE32", "HW_ARCH_X86_64", "HW_ARCH_XTENSA",
    "HW_ARCH_XTENSAEB", "HW_CPU_AARCH64_AES", "HW_CPU_AARCH64_ASIMD", "HW_CPU_AARCH64_ASIMDDP",
    "HW_CPU_AARCH64_ASIMDHP", "HW_CPU_AARCH64_ASIMDRDM", "HW_CPU_AARCH64_ATOMICS",
    "HW_CPU_AARCH64_CPUID", "HW_CPU_AARCH64_CRC32", "HW_CPU_AARCH64_DCPOP",
    "HW_CPU_AARCH64_EVTSTRM", "HW_CPU_AARCH64_FCMA", "HW_CPU_AARCH64_FP", "HW_CPU_AARCH64_FPHP",
    "HW_CPU_AARCH64_JSCVT", "HW_CPU_AARCH64_LRCPC", "HW_CPU_AARCH64_PMULL", "HW_CPU_AARCH64_SHA1",
    "HW_CPU_AARCH64_SHA2", "HW_CPU_AARCH64_SHA3", "HW_CPU_AARCH64_SHA512", "HW_CPU_AARCH64_SM3",
    "HW_CPU_AARCH64_SM4", "HW_CPU_AARCH64_SVE", "HW_CPU_AMD_SEV", "HW_CPU_HYPERTHREADING",
    "HW_CPU_PPC64LE_POWER8", "HW_CPU_PPC64LE_POWER9", "HW_CPU_X86_3DNOW", "HW_CPU_X86_ABM",
    "HW_CPU_X86_AESNI", "HW_CPU_X86_AMD_IBPB", "HW_CPU_X86_AMD_NO_SSB", "HW_CPU_X86_AMD_SEV",
    "HW_CPU_X86_AMD_SEV_ES", "HW_CPU_X86_AMD_SEV_SNP", "HW_CPU_X86_AMD_SSBD", "HW_CPU_X86_AMD_SVM",
    "HW_CPU_X86_AMD_VIRT_SSBD", "HW_CPU_X86_AMXBF16", "HW_CPU_X86_AMXINT8", "HW_CPU_X86_AMXTILE",
    "HW_CPU_X86_ASF", "HW_CPU_X86_AVX", "HW_CPU_X86_AVX2", "HW_CPU_X86_AVX512BITALG",
    "HW_CPU_X86_AVX512BW", "HW_CPU_X86_AVX512CD", "HW_CPU_X86_AVX512DQ", "HW_CPU_X86_AVX512ER",
    "HW_CPU_X86_AVX512F", "HW_CPU_X86_AVX512GFNI", "HW_CPU_X86_AVX512IFMA", "HW_CPU_X86_AVX512PF",
    "HW_CPU_X86_AVX512VAES", "HW_CPU_X86_AVX512VBMI", "HW_CPU_X86_AVX512VBMI2",
    "HW_CPU_X86_AVX512VL", "HW_CPU_X86_AVX512VNNI", "HW_CPU_X86_AVX512VPCLMULQDQ",
    "HW_CPU_X86_AVX512VPOPCNTDQ", "HW_CPU_X86_BMI", "HW_CPU_X86_BMI2", "HW_CPU_X86_CLMUL",
    "HW_CPU_X86_F16C", "HW_CPU_X86_FMA3", "HW_CPU_X86_FMA4", "HW_CPU_X86_INTEL_MD_CLEAR",
    "HW_CPU_X86_INTEL_PCID", "HW_CPU_X86_INTEL_SPEC_CTRL", "HW_CPU_X86_INTEL_SSBD",
    "HW_CPU_X86_INTEL_TDX", "HW_CPU_X86_INTEL_VMX", "HW_CPU_X86_MMX", "HW_CPU_X86_MPX",
    "HW_CPU_X86_PDPE1GB", "HW_CPU_X86_SGX", "HW_CPU_X86_SHA", "HW_CPU_X86_SSE", "HW_CPU_X86_SSE2",
    "HW_CPU_X86_SSE3", "HW_CPU_X86_SSE41", "HW_CPU_X86_SSE42", "HW_CPU_X86_SSE4A",
    "HW_CPU_X86_SSSE3", "HW_CPU_X86_STIBP", "HW_CPU_X86_SVM", "HW_CPU_X86_TBM", "HW_CPU_X86_TSX",
    "HW_CPU_X86_VMX", "HW_CPU_X86_XOP", "HW_GPU_API_DIRECT2D", "HW_GPU_API_DIRECT3D_V10_0",
    "HW_GPU_API_DIRECT3D_V10_1", "HW_GPU_API_DIRECT3D_V11_0", "HW_GPU_API_DIRECT3D_V11_1",
    "HW_GPU_API_DIRECT3D_V11_2", "HW_GPU_API_DIRECT3D_V11_3", "HW_GPU_API_DIRECT3D_V12_0",
    "HW_GPU_API_DIRECT3D_V6_0", "HW_GPU_API_DIRECT3D_V7_0", "HW_GPU_API_DIRECT3D_V8_0",
    "HW_GPU_API_DIRECT3D_V8_1", "HW_GPU_API_DIRECT3D_V9_0", "HW_GPU_API_DIRECT3D_V9_0B",
    "HW_GPU_API_DIRECT3D_V9_0C", "HW_GPU_API_DIRECT3D_V9_0L", "HW_GPU_API_DIRECTX_V10",
    "HW_GPU_API_DIRECTX_V11", "HW_GPU_API_DIRECTX_V12", "HW_GPU_API_DXVA",
    "HW_GPU_API_OPENCL_V1_0", "HW_GPU_API_OPENCL_V1_1", "HW_GPU_API_OPENCL_V1_2",
    "HW_GPU_API_OPENCL_V2_0", "HW_GPU_API_OPENCL_V2_1", "HW_GPU_API_OPENCL_V2_2",
    "HW_GPU_API_OPENGL_V1_1", "HW_GPU_API_OPENGL_V1_2", "HW_GPU_API_OPENGL_V1_3",
    "HW_GPU_API_OPENGL_V1_4", "HW_GPU_API_OPENGL_V1_5", "HW_GPU_API_OPENGL_V2_0",
    "HW_GPU_API_OPENGL_V2_1", "HW_GPU_API_OPENGL_V3_0", "HW_GPU_API_OPENGL_V3_1",
    "HW_GPU_API_OPENGL_V3_2", "HW_GPU_API_OPENGL_V3_3", "HW_GPU_API_OPENGL_V4_0",
    "HW_GPU_API_OPENGL_V4_1", "HW_GPU_API_OPENGL_V4_2", "HW_GPU_API_OPENGL_V4_3",
    "HW_GPU_API_OPENGL_V4_4", "HW_GPU_API_OPENGL_V4_5", "HW_GPU_API_VULKAN",
    "HW_GPU_CUDA_COMPUTE_CAPABILITY_V1_0", "HW_GPU_CUDA_COMPUTE_CAPABILITY_V1_1",
    "HW_GPU_CUDA_COMPUTE_CAPABILITY_V1_2", "HW_GPU_CUDA_COMPUTE_CAPABILITY_V1_3",
    "HW_GPU_CUDA_COMPUTE_CAPABILITY_V2_0", "HW_GPU_CUDA_COMPUTE_CAPABILITY_V2_1",
    "HW_GPU_CUDA_COMPUTE_CAPABILITY_V3_0", "HW_GPU_CUDA_COMPUTE_CAPABILITY_V3_2",
    "HW_GPU_CUDA_COMPUTE_CAPABILITY_V3_5", "HW_GPU_CUDA_COMPUTE_CAPABILITY_V3_7",
    "HW_GPU_CUDA_COMPUTE_CAPABILITY_V5_0", "HW_GPU_CUDA_COMPUTE_CAPABILITY_V5_2",
    "HW_GPU_CUDA_COMPUTE_CAPABILITY_V5_3", "HW_GPU_CUDA_COMPUTE_CAPABILITY_V6_0",
    "HW_GPU_CUDA_COMPUTE_CAPABILITY_V6_1", "HW_GPU_CUDA_COMPUTE_CAPABILITY_V6_2",
    "HW_GPU_CUDA_COMPUTE_CAPABILITY_V7_0", "HW_GPU_CUDA_COMPUTE_CAPABILITY_V7_1",
    "HW_GPU_CUDA_COMPUTE_CAPABILITY_V7_2", "HW_GPU_CUDA_SDK_V10_0", "HW_GPU_CUDA_SDK_V6_5",
    "HW_GPU_CUDA_SDK_V7_5", "HW_GPU_CUDA_SDK_V8_0", "HW_GPU_CUDA_SDK_V9_0", "HW_GPU_CUDA_SDK_V9_1",
    "HW_GPU_CUDA_SDK_V9_2", "HW_GPU_MAX_DISPLAY_HEADS_1", "HW_GPU_MAX_DISPLAY_HEADS_2",
    "HW_GPU_MAX_DISPLAY_HEADS_4", "HW_GPU_MAX_DISPLAY_HEADS_6", "HW_GPU_MAX_DISPLAY_HEADS_8",
    "HW_GPU_RESOLUTION_W1024H600", "HW_GPU_RESOLUTION_W1024H768", "HW_GPU_RESOLUTION_W1152H864",
    "HW_GPU_RESOLUTION_W1280H1024", "HW_GPU_RESOLUTION_W1280H720", "HW_GPU_RESOLUTION_W1280H768",
    "HW_GPU_RESOLUTION_W1280H800", "HW_GPU_RESOLUTION_W1360H768", "HW_GPU_RESOLUTION_W1366H768",
    "HW_GPU_RESOLUTION_W1440H900", "HW_GPU_RESOLUTION_W1600H1200", "HW_GPU_RESOLUTION_W1600H900",
    "HW_GPU_RESOLUTION_W1680H1050", "HW_GPU_RESOLUTION_W1920H1080", "HW_GPU_RESOLUTION_W1920H1200",
    "HW_GPU_RESOLUTION_W2560H1440", "HW_GPU_RESOLUTION_W2560H1600", "HW_GPU_RESOLUTION_W320H240",
    "HW_GPU_RESOLUTION_W3840H2160", "HW_GPU_RESOLUTION_W640H480", "HW_GPU_RESOLUTION_W7680H4320",
    "HW_GPU_RESOLUTION_W800H600", "HW_NIC_ACCEL_DEFLATE", "HW_NIC_ACCEL_DIFFIEH",
    "HW_NIC_ACCEL_ECC", "HW_NIC_ACCEL_IPSEC", "HW_NIC_ACCEL_LZS", "HW_NIC_ACCEL_RSA",
    "HW_NIC_ACCEL_SSL", "HW_NIC_ACCEL_TLS", "HW_NIC_DCB_ETS", "HW_NIC_DCB_PFC", "HW_NIC_DCB_QCN",
    "HW_NIC_MULTIQUEUE", "HW_NIC_OFFLOAD_FDF", "HW_NIC_OFFLOAD_GENEVE", "HW_NIC_OFFLOAD_GRE",
    "HW_NIC_OFFLOAD_GRO", "HW_NIC_OFFLOAD_GSO", "HW_NIC_OFFLOAD_L2CRC", "HW_NIC_OFFLOAD_LRO",
    "HW_NIC_OFFLOAD_LSO", "HW_NIC_OFFLOAD_QINQ", "HW_NIC_OFFLOAD_RDMA", "HW_NIC_OFFLOAD_RX",
    "HW_NIC_OFFLOAD_RXHASH", "HW_NIC_OFFLOAD_RXVLAN", "HW_NIC_OFFLOAD_SCS", "HW_NIC_OFFLOAD_SG",
    "HW_NIC_OFFLOAD_SWITCHDEV", "HW_NIC_OFFLOAD_TCS", "HW_NIC_OFFLOAD_TSO", "HW_NIC_OFFLOAD_TX",
    "HW_NIC_OFFLOAD_TXUDP", "HW_NIC_OFFLOAD_TXVLAN", "HW_NIC_OFFLOAD_UCS", "HW_NIC_OFFLOAD_UFO",
    "HW_NIC_OFFLOAD_VXLAN", "HW_NIC_PROGRAMMABLE_PIPELINE", "HW_NIC_SRIOV",
    "HW_NIC_SRIOV_MULTIQUEUE", "HW_NIC_SRIOV_QOS_RX", "HW_NIC_SRIOV_QOS_TX",
    "HW_NIC_SRIOV_TRUSTED", "HW_NIC_VMDQ", "HW_NUMA_ROOT", "HW_NVME_BES", "HW_NVME_CES",
    "HW_NVME_WZS", "HW_PCI_LIVE_MIGRATABLE", "HW_PCI_ONE_TIME_USE", "MISC_SHARES_VIA_AGGREGATE",
    "OWNER_CYBORG", "OWNER_NOVA", "STORAGE_DISK_HDD", "STORAGE_DISK_SSD",
    NULL};
static const char *const std_resource_classes[] = {
    "DISK_GB", "FPGA", "IPV4_ADDRESS", "MEMORY_MB", "MEM_ENCRYPTION_CONTEXT",
    "NET_BW_EGR_KILOBIT_PER_SEC", "NET_BW_IGR_KILOBIT_PER_SEC",
    "NET_PACKET_RATE_EGR_KILOPACKET_PER_SEC", "NET_PACKET_RATE_IGR_KILOPACKET_PER_SEC",
    "NET_PACKET_RATE_KILOPACKET_PER_SEC", "NUMA_CORE", "NUMA_MEMORY_MB", "NUMA_SOCKET",
    "NUMA_THREAD", "PCI_DEVICE", "PCPU", "PGPU", "SRIOV_NET_VF", "VCPU", "VGPU",
    "VGPU_DISPLAY_HEAD",
    NULL};
static const struct xspec xspecs[] = {
    ANY("accel:device_profile"),
    ANY("aggregate_instance_extra_specs:(?P<key>.+)"),
    ANY("capabilities:id"),
    ANY("capabilities:uuid"),
    ANY("capabilities:service_id"),
    ANY("capabilities:host"),
    ANY("capabilities:vcpus"),
    ANY("capabilities:memory_mb"),
    ANY("capabilities:local_gb"),
    ANY("capabilities:vcpus_used"),
    ANY("capabilities:memory_mb_used"),
    ANY("capabilities:local_gb_used"),
    ANY("capabilities:hypervisor_type"),
    ANY("capabilities:hypervisor_version"),
    ANY("capabilities:hypervisor_hostname"),
    ANY("capabilities:free_ram_mb"),
    ANY("capabilities:free_disk_gb"),
    ANY("capabilities:current_workload"),
    ANY("capabilities:running_vms"),
    ANY("capabilities:disk_available_least"),
    ANY("capabilities:host_ip"),
    ANY("capabilities:mapped"),
    ANY("capabilities:cpu_allocation_ratio"),
    ANY("capabilities:ram_allocation_ratio"),
    ANY("capabilities:disk_allocation_ratio"),
    ANY("capabilities:total_usable_ram_mb"),
    ANY("capabilities:total_usable_disk_gb"),
    ANY("capabilities:disk_mb_used"),
    ANY("capabilities:free_disk_mb"),
    ANY("capabilities:vcpus_total"),
    ANY("capabilities:vcpus_used"),
    ANY("capabilities:num_instances"),
    ANY("capabilities:num_io_ops"),
    ANY("capabilities:failed_builds"),
    ANY("capabilities:aggregates"),
    ANY("capabilities:cell_uuid"),
    ANY("capabilities:updated"),
    ANY("capabilities:cpu_info(?P<filter>(:\\w+)*)"),
    ANY("capabilities:metrics(?P<filter>(:\\w+)*)"),
    ANY("capabilities:stats(?P<filter>(:\\w+)*)"),
    ANY("capabilities:numa_topology(?P<filter>(:\\w+)*)"),
    ANY("capabilities:supported_hv_specs(?P<filter>(:\\w+)*)"),
    ANY("capabilities:pci_device_pools(?P<filter>(:\\w+)*)"),
    ANY("capabilities:nodename(?P<filter>(:\\w+)*)"),
    ANY("capabilities:pci_stats(?P<filter>(:\\w+)*)"),
    ANY("capabilities:supported_instances(?P<filter>(:\\w+)*)"),
    ANY("capabilities:limits(?P<filter>(:\\w+)*)"),
    ANY("capabilities:instances(?P<filter>(:\\w+)*)"),
    BOOL("hw:cpu_realtime"),
    FORMAT("hw:cpu_realtime_mask", "(\\^)?\\d+((-\\d+)?(,\\^?\\d+(-\\d+)?)?)*"),
    BOOL("hw:hide_hypervisor_id"),
    ONE_OF("hw:cpu_policy", "dedicated, shared, mixed"),
    ONE_OF("hw:cpu_thread_policy", "prefer, isolate, require"),
    ONE_OF("hw:emulator_threads_policy", "isolate, share"),
    FORMAT("hw:cpu_dedicated_mask", "\\^?\\d+((-\\d+)?(,\\^?\\d+(-\\d+)?)?)*"),
    FORMAT("hw:mem_page_size", "(large|small|any|\\d+([kKMGT]i?)?(b|bit|B)?)"),
    BOOL("hw:locked_memory"),
    INT("hw:numa_nodes", 1, NOMAX),
    FORMAT("hw:numa_cpus.(?P<num>\\d+)", "\\^?\\d+((-\\d+)?(,\\^?\\d+(-\\d+)?)?)*"),
    INT("hw:numa_mem.(?P<num>\\d+)", 1, NOMAX),
    ONE_OF("hw:pci_numa_affinity_policy", "required, preferred, legacy, socket"),
    INT("hw:cpu_sockets", 1, NOMAX),
    INT("hw:cpu_cores", 1, NOMAX),
    INT("hw:cpu_threads", 1, NOMAX),
    INT("hw:cpu_max_sockets", 1, NOMAX),
    INT("hw:cpu_max_cores", 1, NOMAX),
    INT("hw:cpu_max_threads", 1, NOMAX),
    BOOL("hw:boot_menu"),
    BOOL("hw:vif_multiqueue_enabled"),
    BOOL("hw:mem_encryption"),
    ONE_OF("hw:mem_encryption_model", "amd-sev, amd-sev-es, amd-sev-snp"),
    FORMAT("hw:pmem", "([a-zA-Z0-9_]+(,)?)+"),
    BOOL("hw:pmu"),
    INT("hw:serial_port_count", 0, NOMAX),
    ONE_OF("hw:tpm_model", "tpm-tis, tpm-crb"),
    ONE_OF("hw:tpm_version", "1.2, 2.0"),
    ONE_OF("hw:tpm_secret_security", "user, host, deployment"),
    ONE_OF("hw:watchdog_action", "none, pause, poweroff, reset, disabled"),
    ONE_OF("hw:viommu_model", "intel, smmuv3, virtio, auto"),
    BOOL("hw:virtio_packed_ring"),
    ONE_OF("hw:sound_model", "sb16, es1370, pcspk, ac97, ich6, ich9, usb, virtio"),
    ONE_OF("hw:usb_model", "none, nec-xhci, qemu-xhci"),
    INT("hw:redirected_usb_ports", 0, 15),
    BOOL("hw:ephemeral_encryption"),
    ONE_OF("hw:ephemeral_encryption_format", "plain, luks, luksv2"),
    BOOL("hw_rng:allowed"),
    INT("hw_rng:rate_bytes", 0, NOMAX),
    INT("hw_rng:rate_period", 0, NOMAX),
    INT("hw_video:ram_max_mb", 0, NOMAX),
    BOOL("hide_hypervisor_id"),
    ONE_OF("group_policy", "isolate, none"),
    ONE_OF("os:secure_boot", "disabled, required"),
    FORMAT("pci_passthrough:alias", "[^:]+:\\d+(?:\\s*,\\s*[^:]+:\\d+)*"),
    INT("quota:cpu_limit", 0, NOMAX),
    INT("quota:cpu_reservation", NOMIN, NOMAX),
    ONE_OF("quota:cpu_shares_level", "custom, high, normal, low"),
    INT("quota:cpu_shares_share", 0, NOMAX),
    INT("quota:memory_limit", 0, NOMAX),
    INT("quota:memory_reservation", NOMIN, NOMAX),
    ONE_OF("quota:memory_shares_level", "custom, high, normal, low"),
    INT("quota:memory_shares_share", 0, NOMAX),
    INT("quota:disk_io_limit", 0, NOMAX),
    INT("quota:disk_io_reservation", NOMIN, NOMAX),
    ONE_OF("quota:disk_io_shares_level", "custom, high, normal, low"),
    INT("quota:disk_io_shares_share", 0, NOMAX),
    INT("quota:vif_limit", 0, NOMAX),
    INT("quota:vif_reservation", NOMIN, NOMAX),
    ONE_OF("quota:vif_shares_level", "custom, high, normal, low"),
    INT("quota:vif_shares_share", 0, NOMAX),
    INT("quota:cpu_shares", 0, NOMAX),
    INT("quota:cpu_period", 0, NOMAX),
    INT("quota:cpu_quota", NOMIN, NOMAX),
    INT("quota:disk_read_bytes_sec", 0, NOMAX),
    INT("quota:disk_read_iops_sec", 0, NOMAX),
    INT("quota:disk_write_bytes_sec", 0, NOMAX),
    INT("quota:disk_write_iops_sec", 0, NOMAX),
    INT("quota:disk_total_bytes_sec", 0, NOMAX),
    INT("quota:disk_total_iops_sec", 0, NOMAX),
    INT("quota:vif_inbound_average", 0, NOMAX),
    INT("quota:vif_inbound_peak", 0, NOMAX),
    INT("quota:vif_inbound_burst", 0, NOMAX),
    INT("quota:vif_outbound_average", 0, NOMAX),
    INT("quota:vif_outbound_peak", 0, NOMAX),
    INT("quota:vif_outbound_burst", 0, NOMAX),
    {"resources(?P<group>([a-zA-Z0-9_-]{1,64})?):(?P<resource>[A-Z0-9_]+)", 'i', NULL,
     NOMIN, NOMAX, std_resource_classes},
    INT("resources(?P<group>([a-zA-Z0-9_-]{1,64})?):CUSTOM_(?P<resource>[A-Z0-9_]+)", NOMIN, NOMAX),
    {"trait(?P<group>([a-zA-Z0-9_-]{1,64})?):(?P<trait>[A-Z0-9_]+)", 'e', "required, forbidden",
     NOMIN, NOMAX, std_traits},
    ONE_OF("trait(?P<group>([a-zA-Z0-9_-]{1,64})?):CUSTOM_(?P<trait>[A-Z0-9_]+)", "required, forbidden"),
    ANY("vmware:hw_version"),
    ANY("vmware:storage_policy"),
};
/* clang-format on */
#define NSPECS (sizeof xspecs / sizeof xspecs[0])

/* ---- validation (2.86) ---- */

/* Python's re syntax as POSIX ERE, anchored for a full match: named and
 * non-capturing groups become plain groups, \d \s \w become classes. */
static int py_regcomp(regex_t *re, const char *py) {
    struct sbuf b = {0};
    sbuf_add(&b, "^(", 2);
    for (const char *p = py; *p; p++) {
        if (!strncmp(p, "(?P<", 4)) {
            p = strchr(p, '>');
            sbuf_add(&b, "(", 1);
        } else if (!strncmp(p, "(?:", 3)) {
            p += 2;
            sbuf_add(&b, "(", 1);
        } else if (*p == '\\' && p[1] == 'd')
            sbuf_add(&b, "[0-9]", 5), p++;
        else if (*p == '\\' && p[1] == 's')
            sbuf_add(&b, "[[:space:]]", 11), p++;
        else if (*p == '\\' && p[1] == 'w')
            sbuf_add(&b, "[[:alnum:]_]", 12), p++;
        else if (*p == '\\' && p[1])
            sbuf_add(&b, p++, 2);
        else
            sbuf_add(&b, p, 1);
    }
    sbuf_add(&b, ")$", 2);
    int rc = regcomp(re, b.s, REG_EXTENDED);
    sbuf_free(&b);
    return rc;
}

/* True when `s` fully matches `py`; compiled once per process and kept. */
static bool py_fullmatch(const char *py, const char *s, const char **last, size_t *lastlen) {
    static struct {
        const char *py;
        regex_t re;
    } cache[64];
    static size_t ncache;
    size_t i = 0;
    while (i < ncache && cache[i].py != py)
        i++;
    if (i == ncache) {
        if (ncache == 64 || py_regcomp(&cache[i].re, py)) return false;
        cache[ncache++].py = py;
    }
    regmatch_t m[10];
    if (regexec(&cache[i].re, s, 10, m, 0)) return false;
    size_t g = cache[i].re.re_nsub < 10 ? cache[i].re.re_nsub : 9;
    if (last) *last = s + m[g].rm_so, *lastlen = (size_t)(m[g].rm_eo - m[g].rm_so);
    return true;
}

static bool is_pattern(const char *name) {
    return strchr(name, '(') != NULL;
}

static bool key_matches(const struct xspec *x, const char *key) {
    if (!is_pattern(x->name)) return !strcmp(x->name, key);
    const char *last;
    size_t len;
    if (!py_fullmatch(x->name, key, &last, &len)) return false;
    if (!x->names) return true;
    for (const char *const *n = x->names; *n; n++)
        if (strlen(*n) == len && !strncmp(*n, last, len)) return true;
    return false;
}

static bool in_enum(const char *list, const char *v) {
    size_t n = strlen(v);
    for (const char *p = list; p; p = strstr(p, ", ") ? strstr(p, ", ") + 2 : NULL)
        if (!strncmp(p, v, n) && (!p[n] || p[n] == ',')) return true;
    return false;
}

/* Nova's check of one value against its rule: 0 or the 400. */
static int check_value(struct req *r, const struct xspec *x, const char *v) {
    long long n;
    bool b;
    switch (x->type) {
    case 'e':
        if (!in_enum(x->rule, v))
            return api_error(r, 400, "Validation failed; '%s' is not one of: %s.", v, x->rule);
        return 0;
    case 'p':
        if (!py_fullmatch(x->rule, v, NULL, NULL))
            return api_error(r, 400, "Validation failed; '%s' is not of the format '%s'.", v,
                             x->rule);
        return 0;
    case 'i':
        if (!str_to_int(v, &n))
            return api_error(r, 400, "Validation failed; '%s' is not a valid integer value.", v);
        if (n > x->max)
            return api_error(r, 400,
                             "Validation failed; '%lld' is greater than the max value of '%lld'.",
                             n, x->max);
        if (n < x->min)
            return api_error(r, 400,
                             "Validation failed; '%lld' is less than the min value of '%lld'.", n,
                             x->min);
        return 0;
    case 'b':
        if (!str_to_bool(v, &b))
            return api_error(r, 400, "Validation failed; '%s' is not a valid boolean-like value.",
                             v);
        return 0;
    default:
        return 0;
    }
}

/* The namespaces of the known keys (the part before the first ':'). */
static const char *const namespaces[] = {
    "accel",
    "aggregate_instance_extra_specs",
    "capabilities",
    "hw",
    "hw_rng",
    "hw_video",
    "os",
    "pci_passthrough",
    "quota",
    "resources(?P<group>([a-zA-Z0-9_-]{1,64})?)",
    "trait(?P<group>([a-zA-Z0-9_-]{1,64})?)",
    "vmware",
};

/* Known key: its rule. Unknown key in a known namespace: refused. Anything
 * else: accepted. */
static int check_spec(struct req *r, const char *key, const char *value) {
    for (size_t i = 0; i < NSPECS; i++)
        if (!is_pattern(xspecs[i].name) && !strcmp(xspecs[i].name, key))
            return check_value(r, &xspecs[i], value);
    for (size_t i = 0; i < NSPECS; i++)
        if (is_pattern(xspecs[i].name) && key_matches(&xspecs[i], key))
            return check_value(r, &xspecs[i], value);
    const char *colon = strchr(key, ':');
    if (!colon) return 0;
    char ns[256];
    snprintf(ns, sizeof ns, "%.*s", (int)(colon - key), key);
    for (size_t i = 0; i < sizeof namespaces / sizeof namespaces[0]; i++)
        if (is_pattern(namespaces[i]) ? py_fullmatch(namespaces[i], ns, NULL, NULL)
                                      : !strcmp(namespaces[i], ns))
            return api_error(r, 400,
                             "Validation failed; extra spec '%s' does not appear to be a valid "
                             "extra spec.",
                             key);
    return 0;
}

/* ---- the routes ---- */

/* The body's specs as text (numbers as Python prints them), each checked
 * from 2.86. Returns 0 and *out, or the 400. */
static int specs_text(struct req *r, json_t *in, json_t **out) {
    json_t *specs = json_object(), *v;
    const char *key;
    json_object_foreach(in, key, v) {
        char num[64];
        const char *s = json_string_value(v);
        if (!s) flavors_number_text(v, num, sizeof num), s = num;
        int st = req_ver_ge(r, MV(2, 86)) ? check_spec(r, key, s) : 0;
        if (st) {
            json_decref(specs);
            return st;
        }
        json_object_set_new(specs, key, json_string(s));
    }
    *out = specs;
    return 0;
}

/* Creates or overwrites the given specs and answers with the request's
 * body, as Nova does. */
static int upsert(struct req *r, json_t *given) {
    json_t *specs;
    int st = specs_text(r, given, &specs);
    if (st) return st;
    char row_id[24];
    if ((st = flavors_find(r, req_param(r, "flavor_id"), row_id, NULL))) {
        json_decref(specs);
        return st;
    }
    char *text = json_dumps(specs, JSON_COMPACT);
    json_decref(specs);
    const char *params[] = {row_id, text};
    enum db_status dst = db_exec(
        "INSERT INTO flavor_extra_specs (flavor_id, key, value)"
        " SELECT $1, key, value FROM jsonb_each_text($2::jsonb)"
        " ON CONFLICT (flavor_id, key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
        2, params);
    free(text);
    if (dst) return api_db_error(r, dst);
    return api_reply(r, 200, json_incref(r->body));
}

int flavor_extra_specs_index(struct req *r) {
    char row_id[24];
    int st = flavors_find(r, req_param(r, "flavor_id"), row_id, NULL);
    if (st) return st;
    const char *params[] = {row_id};
    PGresult *res;
    enum db_status dst = db_query(
        &res, "SELECT key, value FROM flavor_extra_specs WHERE flavor_id = $1 ORDER BY key", 1,
        params);
    if (dst) return api_db_error(r, dst);
    json_t *specs = json_object();
    for (int i = 0; i < PQntuples(res); i++)
        json_object_set_new(specs, db_str(res, i, 0), json_string(db_str(res, i, 1)));
    PQclear(res);
    return api_reply(r, 200, json_pack("{s:o}", "extra_specs", specs));
}

int flavor_extra_specs_create(struct req *r) {
    return upsert(r, json_object_get(r->body, "extra_specs"));
}

int flavor_extra_specs_update(struct req *r) {
    json_t *specs;
    int st = specs_text(r, r->body, &specs);
    if (st) return st;
    json_decref(specs);
    if (!json_object_get(r->body, req_param(r, "id")))
        return api_error(r, 400, "Request body and URI mismatch");
    return upsert(r, r->body);
}

int flavor_extra_specs_show(struct req *r) {
    const char *fid = req_param(r, "flavor_id"), *key = req_param(r, "id");
    char row_id[24];
    int st = flavors_find(r, fid, row_id, NULL);
    if (st) return st;
    const char *params[] = {row_id, key};
    PGresult *res;
    enum db_status dst = db_query(
        &res, "SELECT value FROM flavor_extra_specs WHERE flavor_id = $1 AND key = $2", 2, params);
    if (dst) return api_db_error(r, dst);
    if (!PQntuples(res)) {
        PQclear(res);
        return api_error(r, 404, "Flavor %s has no extra specs with key %s.", fid, key);
    }
    json_t *body = json_pack("{s:s}", key, db_str(res, 0, 0));
    PQclear(res);
    return api_reply(r, 200, body);
}

int flavor_extra_specs_delete(struct req *r) {
    const char *fid = req_param(r, "flavor_id"), *key = req_param(r, "id");
    char row_id[24];
    int st = flavors_find(r, fid, row_id, NULL);
    if (st) return st;
    const char *params[] = {row_id, key};
    PGresult *res;
    enum db_status dst = db_query(
        &res, "DELETE FROM flavor_extra_specs WHERE flavor_id = $1 AND key = $2 RETURNING id", 2,
        params);
    if (dst) return api_db_error(r, dst);
    int n = PQntuples(res);
    PQclear(res);
    if (!n) return api_error(r, 404, "Flavor %s has no extra specs with key %s.", fid, key);
    return api_reply(r, 200, NULL);
}
