//! The simulated clusters: namespaces, workloads, nodes and their pods,
//! named the way Kubernetes names them.

use super::rng::Rng;

/// Namespaces and the workloads in them (weights follow what real bundles
/// show: system namespaces are busy, application namespaces many).
pub const NAMESPACES: &[(&str, &[&str])] = &[
    ("default", &["web", "api", "worker"]),
    ("kube-system", &["coredns", "metrics-server", "kube-proxy", "aws-node", "ebs-csi-controller"]),
    ("monitoring", &["prometheus-server", "grafana", "alertmanager", "node-exporter", "kube-state-metrics"]),
    ("ingress-nginx", &["ingress-nginx-controller"]),
    ("cert-manager", &["cert-manager", "cert-manager-webhook", "cert-manager-cainjector"]),
    ("payments", &["payments-api", "ledger", "fraud-scorer", "payments-worker"]),
    ("checkout", &["checkout", "cart", "pricing", "shipping-quote"]),
    ("search", &["search-api", "indexer", "query-router"]),
    ("data", &["kafka-connect", "etl-runner", "airflow-scheduler", "airflow-web"]),
    ("auth", &["keycloak", "oauth2-proxy"]),
    ("logging", &["fluent-bit", "loki", "vector-aggregator"]),
    ("argocd", &["argocd-server", "argocd-repo-server", "argocd-application-controller"]),
    ("frontend", &["storefront", "admin-ui", "image-resizer"]),
    ("ml", &["model-server", "feature-store", "trainer"]),
    ("batch", &["report-generator", "invoice-export", "cleanup"]),
];

/// Container images by workload family.
pub const IMAGES: &[&str] = &[
    "registry.k8s.io/coredns/coredns:v1.11.1",
    "quay.io/prometheus/prometheus:v2.53.0",
    "grafana/grafana:11.1.0",
    "ghcr.io/acme/payments-api:2026.11.3",
    "ghcr.io/acme/checkout:1.42.0",
    "docker.io/library/nginx:1.27.1",
    "public.ecr.aws/acme/search-api:7f3c2a1",
    "ghcr.io/acme/worker:3.8.12",
    "docker.io/bitnami/kafka:3.7",
    "quay.io/keycloak/keycloak:25.0",
];

/// One simulated cluster.
#[derive(Debug, Clone)]
pub struct Cluster {
    pub name: String,
    pub nodes: Vec<String>,
    /// Current ReplicaSet hash per (namespace index, workload index).
    pub rs_hash: Vec<Vec<String>>,
}

impl Cluster {
    pub fn new(index: usize, rng: &mut Rng) -> Cluster {
        let name = if index == 0 { "prod".to_string() } else { format!("prod-{}", index + 1) };
        let nodes = (0..24)
            .map(|i| {
                if index.is_multiple_of(2) {
                    format!("ip-10-{}-{}-{}.ec2.internal", index, 16 + i / 8, rng.range(10, 250))
                } else {
                    format!("gke-{name}-pool-{}-{}", 1 + i / 12, rng.suffix(4))
                }
            })
            .collect();
        let rs_hash = NAMESPACES.iter().map(|(_, w)| w.iter().map(|_| hash(rng)).collect()).collect();
        Cluster { name, nodes, rs_hash }
    }
}

/// A ReplicaSet pod-template hash (10 characters).
pub fn hash(rng: &mut Rng) -> String {
    rng.suffix(10)
}

/// A pod IP.
pub fn pod_ip(rng: &mut Rng) -> String {
    format!("10.{}.{}.{}", rng.range(0, 3) * 4, rng.range(0, 255), rng.range(2, 254))
}
