//! Episodes: the stories events tell. Each returns the observations of the
//! events it produced.

use super::json::{micro_time, quote, time};
use super::rng::Rng;
use super::world::{hash, pod_ip, Cluster, IMAGES, NAMESPACES};
use std::fmt::Write;

/// One observation of one event, ready to print.
#[derive(Debug, Clone, Default)]
pub struct Obs {
    pub cluster: String,
    pub ns: String,
    pub name: String,
    pub uid: String,
    pub rv: u64,
    pub kind: &'static str,
    pub obj_api: &'static str,
    pub obj_name: String,
    pub obj_uid: String,
    pub field_path: Option<String>,
    pub reason: &'static str,
    pub message: String,
    pub warning: bool,
    pub component: &'static str,
    pub host: Option<String>,
    pub first: i64,
    pub last: i64,
    pub count: u64,
    pub events_api: bool,
}

impl Obs {
    /// The observation as one line of JSON, in its shape.
    pub fn to_json(&self, with_cluster: bool) -> String {
        let mut s = String::with_capacity(900);
        let api = if self.events_api { "events.k8s.io/v1" } else { "v1" };
        let _ = write!(
            s,
            r#"{{"kind":"Event","apiVersion":"{api}","metadata":{{"name":{},"namespace":{},"uid":"{}","resourceVersion":"{}","creationTimestamp":"{}""#,
            quote(&self.name),
            quote(&self.ns),
            self.uid,
            self.rv,
            time(self.first)
        );
        if with_cluster {
            let _ = write!(s, r#","annotations":{{"kevdb.io/cluster":{}}}"#, quote(&self.cluster));
        }
        s.push('}');
        let mut obj = format!(
            r#"{{"kind":"{}","namespace":{},"name":{},"uid":"{}","apiVersion":"{}","resourceVersion":"{}""#,
            self.kind,
            quote(&self.ns),
            quote(&self.obj_name),
            self.obj_uid,
            self.obj_api,
            self.rv.saturating_sub(40 + self.count)
        );
        if let Some(fp) = &self.field_path {
            let _ = write!(obj, r#","fieldPath":{}"#, quote(fp));
        }
        obj.push('}');
        let ty = if self.warning { "Warning" } else { "Normal" };
        let host = self.host.as_deref().map(quote);
        if self.events_api {
            let micros = (self.uid.as_bytes()[0] as u32 * 3911) % 1_000_000;
            let _ = write!(s, r#","eventTime":"{}""#, micro_time(self.first, micros));
            if self.count > 1 {
                let _ = write!(
                    s,
                    r#","series":{{"count":{},"lastObservedTime":"{}"}}"#,
                    self.count,
                    micro_time(self.last, micros)
                );
            }
            let _ = write!(
                s,
                r#","reportingController":"{}","reportingInstance":{},"action":"{}","reason":"{}","regarding":{obj},"note":{},"type":"{ty}"}}"#,
                self.component,
                host.unwrap_or_else(|| quote(self.component)),
                action(self.reason),
                self.reason,
                quote(&self.message)
            );
        } else {
            let source = match &host {
                Some(h) => format!(r#"{{"component":"{}","host":{h}}}"#, self.component),
                None => format!(r#"{{"component":"{}"}}"#, self.component),
            };
            let _ = write!(
                s,
                r#","involvedObject":{obj},"reason":"{}","message":{},"source":{source},"firstTimestamp":"{}","lastTimestamp":"{}","count":{},"type":"{ty}","eventTime":null,"reportingComponent":"","reportingInstance":""}}"#,
                self.reason,
                quote(&self.message),
                time(self.first),
                time(self.last),
                self.count
            );
        }
        s
    }
}

fn action(reason: &str) -> &'static str {
    match reason {
        "Scheduled" | "FailedScheduling" => "Binding",
        "Pulling" | "Pulled" | "Failed" => "Pulling",
        "Killing" | "Evicted" => "Killing",
        "ScalingReplicaSet" | "SuccessfulRescale" => "Scaling",
        _ => "Observed",
    }
}

/// Builder for the events of one object.
struct Obj<'a> {
    cluster: &'a str,
    ns: &'a str,
    kind: &'static str,
    api: &'static str,
    name: String,
    uid: String,
}

impl Obj<'_> {
    /// One event about this object, observed `repeats` times between `t`
    /// and `t + spread` seconds with rising counts.
    #[allow(clippy::too_many_arguments)]
    fn event(
        &self,
        out: &mut Vec<Obs>,
        t: i64,
        reason: &'static str,
        message: String,
        warning: bool,
        component: &'static str,
        host: Option<&str>,
        field_path: Option<String>,
        repeats: u64,
        spread: i64,
        rng: &mut Rng,
    ) {
        let uid = rng.uuid();
        let name = format!("{}.{:016x}", self.name, (t as u64) * 1_000_000_000 + rng.below(1_000_000_000));
        let mut count = 0;
        let mut last = t;
        for i in 0..repeats.max(1) {
            count += if i == 0 { 1 } else { rng.range(1, 4) };
            if i > 0 {
                last += rng.range(1, (spread.max(2) / repeats.max(1) as i64).max(2) as u64) as i64;
            }
            out.push(Obs {
                cluster: self.cluster.to_string(),
                ns: self.ns.to_string(),
                name: name.clone(),
                uid: uid.clone(),
                rv: 0,
                kind: self.kind,
                obj_api: self.api,
                obj_name: self.name.clone(),
                obj_uid: self.uid.clone(),
                field_path: field_path.clone(),
                reason,
                message: message.clone(),
                warning,
                component,
                host: host.map(str::to_string),
                first: t,
                last,
                count,
                events_api: false,
            });
        }
    }
}

/// How many observations a one-shot event gets: usually one, sometimes a
/// re-delivery with a higher count.
fn oneshot(rng: &mut Rng) -> u64 {
    if rng.chance(0.5) {
        2
    } else {
        1
    }
}

/// Generates one episode starting at `t`.
pub fn episode(rng: &mut Rng, cluster: &mut Cluster, t: i64) -> Vec<Obs> {
    let mut out = Vec::new();
    let n = rng.below(NAMESPACES.len() as u64) as usize;
    let (ns, workloads) = NAMESPACES[n];
    let w = rng.below(workloads.len() as u64) as usize;
    let workload = workloads[w];
    let node = rng.pick(&cluster.nodes).clone();
    let image = *rng.pick(IMAGES);
    macro_rules! pod {
        ($rng:expr, $cluster:expr) => {
            new_pod($rng, $cluster, ns, workload, &$cluster.rs_hash[n][w])
        };
    }
    let container = format!("spec.containers{{{workload}}}");
    let roll = rng.below(100);
    match roll {
        // A pod starts.
        0..=29 => {
            let p = pod!(rng, cluster);
            pod_start(rng, &mut out, &p, t, &node, image, &container);
        }
        // A deployment rolls out: new ReplicaSet, new pods, old pods killed.
        30..=37 => {
            let old = cluster.rs_hash[n][w].clone();
            cluster.rs_hash[n][w] = hash(rng);
            let new = cluster.rs_hash[n][w].clone();
            let cname = cluster.name.clone();
            let dep =
                Obj { cluster: &cname, ns, kind: "Deployment", api: "apps/v1", name: workload.into(), uid: rng.uuid() };
            let replicas = rng.range(2, 6);
            dep.event(
                &mut out,
                t,
                "ScalingReplicaSet",
                format!("Scaled up replica set {workload}-{new} to {replicas}"),
                false,
                "deployment-controller",
                None,
                None,
                oneshot(rng),
                30,
                rng,
            );
            dep.event(
                &mut out,
                t + 40,
                "ScalingReplicaSet",
                format!("Scaled down replica set {workload}-{old} to 0 from {replicas}"),
                false,
                "deployment-controller",
                None,
                None,
                1,
                30,
                rng,
            );
            let rs = Obj {
                cluster: &cname,
                ns,
                kind: "ReplicaSet",
                api: "apps/v1",
                name: format!("{workload}-{new}"),
                uid: rng.uuid(),
            };
            for i in 0..replicas.min(3) {
                let p = pod!(rng, cluster);
                rs.event(
                    &mut out,
                    t + i as i64,
                    "SuccessfulCreate",
                    format!("Created pod: {}", p.name),
                    false,
                    "replicaset-controller",
                    None,
                    None,
                    1,
                    5,
                    rng,
                );
                let node = rng.pick(&cluster.nodes).clone();
                pod_start(rng, &mut out, &p, t + 2 + i as i64, &node, image, &container);
                let old_pod =
                    Obj { name: format!("{workload}-{old}-{}", rng.suffix(5)), uid: rng.uuid(), ..pod!(rng, cluster) };
                old_pod.event(
                    &mut out,
                    t + 45 + i as i64,
                    "Killing",
                    format!("Stopping container {workload}"),
                    false,
                    "kubelet",
                    Some(&node),
                    Some(container.clone()),
                    1,
                    5,
                    rng,
                );
            }
        }
        // A container crash-loops.
        38..=49 => {
            let p = pod!(rng, cluster);
            let restarts = rng.range(3, 9);
            p.event(
                &mut out,
                t,
                "Pulled",
                format!("Container image \"{image}\" already present on machine"),
                false,
                "kubelet",
                Some(&node),
                Some(container.clone()),
                restarts.min(4),
                1800,
                rng,
            );
            p.event(
                &mut out,
                t,
                "Created",
                format!("Created container {workload}"),
                false,
                "kubelet",
                Some(&node),
                Some(container.clone()),
                restarts.min(3),
                1800,
                rng,
            );
            p.event(
                &mut out,
                t,
                "Started",
                format!("Started container {workload}"),
                false,
                "kubelet",
                Some(&node),
                Some(container.clone()),
                restarts.min(3),
                1800,
                rng,
            );
            p.event(
                &mut out,
                t + 10,
                "BackOff",
                format!("Back-off restarting failed container {workload} in pod {}_{ns}({})", p.name, p.uid),
                true,
                "kubelet",
                Some(&node),
                Some(container.clone()),
                restarts,
                3600,
                rng,
            );
        }
        // A probe fails.
        50..=57 => {
            let p = pod!(rng, cluster);
            let ip = pod_ip(rng);
            let port = *rng.pick(&[8080u64, 8443, 9090, 3000, 5000]);
            let (probe, path) = if rng.chance(0.5) { ("Readiness", "/ready") } else { ("Liveness", "/healthz") };
            let why = match rng.below(3) {
                0 => format!("Get \"http://{ip}:{port}{path}\": dial tcp {ip}:{port}: connect: connection refused"),
                1 => format!("Get \"http://{ip}:{port}{path}\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)"),
                _ => "HTTP probe failed with statuscode: 503".to_string(),
            };
            p.event(
                &mut out,
                t,
                "Unhealthy",
                format!("{probe} probe failed: {why}"),
                true,
                "kubelet",
                Some(&node),
                Some(container.clone()),
                rng.range(2, 6),
                1200,
                rng,
            );
        }
        // An image cannot be pulled.
        58..=62 => {
            let p = pod!(rng, cluster);
            let tag = format!("{}:{}", image.split(':').next().unwrap_or(image), rng.suffix(7));
            let repeats = rng.range(2, 5);
            p.event(
                &mut out,
                t,
                "Pulling",
                format!("Pulling image \"{tag}\""),
                false,
                "kubelet",
                Some(&node),
                Some(container.clone()),
                repeats,
                900,
                rng,
            );
            p.event(&mut out, t + 2, "Failed", format!("Failed to pull image \"{tag}\": rpc error: code = NotFound desc = failed to pull and unpack image \"{tag}\": not found"), true, "kubelet", Some(&node), Some(container.clone()), repeats, 900, rng);
            p.event(
                &mut out,
                t + 2,
                "Failed",
                "Error: ErrImagePull".into(),
                true,
                "kubelet",
                Some(&node),
                Some(container.clone()),
                repeats,
                900,
                rng,
            );
            p.event(
                &mut out,
                t + 5,
                "BackOff",
                format!("Back-off pulling image \"{tag}\""),
                false,
                "kubelet",
                Some(&node),
                Some(container.clone()),
                repeats + 1,
                900,
                rng,
            );
            p.event(
                &mut out,
                t + 5,
                "Failed",
                "Error: ImagePullBackOff".into(),
                true,
                "kubelet",
                Some(&node),
                Some(container.clone()),
                repeats + 1,
                900,
                rng,
            );
        }
        // A pod cannot be scheduled.
        63..=66 => {
            let p = pod!(rng, cluster);
            let total = cluster.nodes.len();
            let cpu = rng.range(1, total as u64 / 2);
            let msg = format!(
                "0/{total} nodes are available: {cpu} Insufficient cpu, {} node(s) didn't match Pod's node affinity/selector. preemption: 0/{total} nodes are available: {cpu} No preemption victims found for incoming pod, {} Preemption is not helpful for scheduling.",
                total as u64 - cpu,
                total as u64 - cpu
            );
            p.event(
                &mut out,
                t,
                "FailedScheduling",
                msg,
                true,
                "default-scheduler",
                None,
                None,
                rng.range(2, 6),
                1800,
                rng,
            );
        }
        // A node comes under memory or disk pressure and evicts pods.
        67..=68 => {
            let cname = cluster.name.clone();
            let n_obj =
                Obj { cluster: &cname, ns: "default", kind: "Node", api: "v1", name: node.clone(), uid: node.clone() };
            let (res, cond) = if rng.chance(0.5) {
                ("memory", "NodeHasInsufficientMemory")
            } else {
                ("ephemeral-storage", "NodeHasDiskPressure")
            };
            n_obj.event(
                &mut out,
                t,
                cond,
                format!("Node {node} status is now: {cond}"),
                false,
                "kubelet",
                Some(&node),
                None,
                1,
                60,
                rng,
            );
            n_obj.event(
                &mut out,
                t + 5,
                "EvictionThresholdMet",
                format!("Attempting to reclaim {res}"),
                true,
                "kubelet",
                Some(&node),
                None,
                rng.range(1, 3),
                300,
                rng,
            );
            for _ in 0..rng.range(1, 4) {
                let p = pod!(rng, cluster);
                let avail = rng.range(20, 95);
                p.event(&mut out, t + 20, "Evicted", format!("The node was low on resource: {res}. Threshold quantity: 100Mi, available: {avail}Mi. Container {workload} was using {}Mi, request is 0, has larger consumption of {res}.", rng.range(200, 900)), true, "kubelet", Some(&node), None, 1, 10, rng);
            }
        }
        // A job runs.
        69..=80 => {
            let cname = cluster.name.clone();
            let job = Obj {
                cluster: &cname,
                ns,
                kind: "Job",
                api: "batch/v1",
                name: format!("{workload}-{}", 29_000_000 + rng.below(1_000_000)),
                uid: rng.uuid(),
            };
            let p = Obj { name: format!("{}-{}", job.name, rng.suffix(5)), ..pod!(rng, cluster) };
            job.event(
                &mut out,
                t,
                "SuccessfulCreate",
                format!("Created pod: {}", p.name),
                false,
                "job-controller",
                None,
                None,
                oneshot(rng),
                10,
                rng,
            );
            pod_start(rng, &mut out, &p, t + 1, &node, image, &container);
            job.event(
                &mut out,
                t + rng.range(30, 600) as i64,
                "Completed",
                "Job completed".into(),
                false,
                "job-controller",
                None,
                None,
                1,
                10,
                rng,
            );
        }
        // An autoscaler acts, or cannot read metrics.
        81..=86 => {
            let cname = cluster.name.clone();
            let hpa = Obj {
                cluster: &cname,
                ns,
                kind: "HorizontalPodAutoscaler",
                api: "autoscaling/v2",
                name: workload.into(),
                uid: rng.uuid(),
            };
            if rng.chance(0.6) {
                let size = rng.range(2, 20);
                hpa.event(
                    &mut out,
                    t,
                    "SuccessfulRescale",
                    format!("New size: {size}; reason: cpu resource utilization (percentage of request) above target"),
                    false,
                    "horizontal-pod-autoscaler",
                    None,
                    None,
                    oneshot(rng),
                    60,
                    rng,
                );
            } else {
                hpa.event(&mut out, t, "FailedGetResourceMetric", "failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API".into(), true, "horizontal-pod-autoscaler", None, None, rng.range(2, 8), 3600, rng);
            }
        }
        // A volume cannot be mounted.
        87..=90 => {
            let p = pod!(rng, cluster);
            let msg = if rng.chance(0.5) {
                format!("MountVolume.SetUp failed for volume \"config\" : configmap \"{workload}-config\" not found")
            } else {
                format!("Unable to attach or mount volumes: unmounted volumes=[data], unattached volumes=[data kube-api-access-{}]: timed out waiting for the condition", rng.suffix(5))
            };
            p.event(&mut out, t, "FailedMount", msg, true, "kubelet", Some(&node), None, rng.range(2, 6), 1800, rng);
        }
        // Services, load balancers and the rest of the background noise.
        _ => {
            let cname = cluster.name.clone();
            let svc = Obj { cluster: &cname, ns, kind: "Service", api: "v1", name: workload.into(), uid: rng.uuid() };
            if rng.chance(0.5) {
                svc.event(
                    &mut out,
                    t,
                    "EnsuringLoadBalancer",
                    "Ensuring load balancer".into(),
                    false,
                    "service-controller",
                    None,
                    None,
                    1,
                    10,
                    rng,
                );
                svc.event(
                    &mut out,
                    t + 3,
                    "EnsuredLoadBalancer",
                    "Ensured load balancer".into(),
                    false,
                    "service-controller",
                    None,
                    None,
                    oneshot(rng),
                    10,
                    rng,
                );
            } else {
                let p = pod!(rng, cluster);
                p.event(
                    &mut out,
                    t,
                    "Killing",
                    format!("Stopping container {workload}"),
                    false,
                    "kubelet",
                    Some(&node),
                    Some(container.clone()),
                    1,
                    5,
                    rng,
                );
            }
        }
    }
    out
}

/// A new pod of a workload's current ReplicaSet.
fn new_pod<'c>(rng: &mut Rng, cluster: &'c Cluster, ns: &'static str, workload: &str, rs_hash: &str) -> Obj<'c> {
    Obj {
        cluster: &cluster.name,
        ns,
        kind: "Pod",
        api: "v1",
        name: format!("{workload}-{rs_hash}-{}", rng.suffix(5)),
        uid: rng.uuid(),
    }
}

/// Scheduled, Pulling, Pulled, Created, Started.
fn pod_start(rng: &mut Rng, out: &mut Vec<Obs>, p: &Obj<'_>, t: i64, node: &str, image: &str, container: &str) {
    let ns = p.ns;
    p.event(
        out,
        t,
        "Scheduled",
        format!("Successfully assigned {ns}/{} to {node}", p.name),
        false,
        "default-scheduler",
        None,
        None,
        1,
        1,
        rng,
    );
    let fp = Some(container.to_string());
    p.event(
        out,
        t + 1,
        "Pulling",
        format!("Pulling image \"{image}\""),
        false,
        "kubelet",
        Some(node),
        fp.clone(),
        oneshot(rng),
        5,
        rng,
    );
    let ms = rng.range(80, 9000);
    let size = rng.range(2_000_000, 900_000_000);
    p.event(out, t + 3, "Pulled", format!("Successfully pulled image \"{image}\" in {}.{:03}s ({}.{:03}s including waiting). Image size: {size} bytes.", ms / 1000, ms % 1000, ms / 1000, ms % 1000), false, "kubelet", Some(node), fp.clone(), oneshot(rng), 5, rng);
    let c = container.trim_start_matches("spec.containers{").trim_end_matches('}');
    p.event(
        out,
        t + 4,
        "Created",
        format!("Created container {c}"),
        false,
        "kubelet",
        Some(node),
        fp.clone(),
        oneshot(rng),
        5,
        rng,
    );
    p.event(
        out,
        t + 4,
        "Started",
        format!("Started container {c}"),
        false,
        "kubelet",
        Some(node),
        fp,
        oneshot(rng),
        5,
        rng,
    );
}
