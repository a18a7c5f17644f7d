//! A tenant for load: a park group with its own policy and users to fill it, all
//! made through the admin API, then every user signed in.

use callpark_client::{AdminClient, ServiceAddress, login};
use callpark_wire::admin::{GrantRequest, NewGroup, NewPolicy, NewUser, PolicyFields};
use futures_util::{StreamExt, TryStreamExt};

use crate::LoadError;

/// Sign-ins and user creations in flight at once (each is an argon2 hash).
const CONCURRENT_SETUP: usize = 4;

/// A signed-in load user.
#[derive(Clone, Debug)]
pub struct LoadUser {
    pub login: String,
    pub token: String,
}

/// Creates `count` users in a park group whose policy allows park with the widest
/// code range, and signs each in. Names carry a tag of this run, so runs against the
/// same service do not collide.
pub async fn load_users(
    service: &ServiceAddress,
    admin_login: &str,
    admin_password: &str,
    count: usize,
) -> Result<Vec<LoadUser>, LoadError> {
    let admin_token = login(service, admin_login, admin_password).await?.token;
    let admin = AdminClient::new(service, &admin_token);
    let run = run_tag();
    let group = format!("Load {run}");
    let logins: Vec<String> = (1..=count).map(|n| format!("load-{run}-{n:05}")).collect();
    futures_util::stream::iter(logins.iter().map(|login| {
        let admin = &admin;
        async move {
            let new = NewUser {
                login: login.clone(),
                display_name: format!("Load {login}"),
                password: password(login),
                admin: false,
                enterprise_voice: true,
                unanswered: Some("disconnect".into()),
                unanswered_delay_seconds: None,
            };
            admin.new_user(&new).await.map(|_| ())
        }
    }))
    .buffer_unordered(CONCURRENT_SETUP)
    .try_collect::<()>()
    .await?;
    admin.new_group(&NewGroup { name: group.clone(), members: logins.clone() }).await?;
    let fields = PolicyFields {
        description: Some("load test".into()),
        allow_call_park: Some(true),
        pickup_range_start: Some(10),
        pickup_range_end: Some(9999),
        park_timeout_seconds: Some(1800),
    };
    admin.new_policy(&NewPolicy { identity: group.clone(), fields }).await?;
    let grant = GrantRequest {
        policy: Some(group.clone()),
        group: Some(group),
        rank: Some(1),
        ..GrantRequest::default()
    };
    admin.grant(&grant).await?;
    let users = futures_util::stream::iter(logins.into_iter().map(|name| async move {
        let token = login(service, &name, &password(&name)).await?.token;
        Ok::<_, LoadError>(LoadUser { login: name, token })
    }))
    .buffered(CONCURRENT_SETUP)
    .try_collect()
    .await?;
    Ok(users)
}

/// Milliseconds since the epoch, in hex: short, and new for every run.
fn run_tag() -> String {
    let since_epoch =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    format!("{:x}", since_epoch.as_millis())
}

fn password(login: &str) -> String {
    format!("{login}-password")
}
