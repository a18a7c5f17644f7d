//! `callpark policy|user|group ...`: the admin API with flags that mirror the
//! cmdlets' parameters.

use callpark_client::AdminClient;
use callpark_wire::admin::{GrantRequest, NewGroup, NewPolicy, NewUser, PolicyFields, UserChanges};
use clap::{Args, Subcommand};

use crate::{Failure, Out, table};

/// `-AllowCallPark`, `-PickupRangeStart`, `-PickupRangeEnd`, `-ParkTimeoutSeconds`,
/// `-Description`. Numbers are passed on as given, so the service can say what range
/// is allowed.
#[derive(Debug, Args)]
pub struct PolicyFlags {
    #[arg(long, value_name = "true|false")]
    allow_call_park: Option<bool>,
    #[arg(long, allow_negative_numbers = true)]
    pickup_range_start: Option<i64>,
    #[arg(long, allow_negative_numbers = true)]
    pickup_range_end: Option<i64>,
    #[arg(long, allow_negative_numbers = true)]
    park_timeout_seconds: Option<i64>,
    #[arg(long)]
    description: Option<String>,
}

impl PolicyFlags {
    fn fields(self) -> PolicyFields {
        PolicyFields {
            description: self.description,
            allow_call_park: self.allow_call_park,
            pickup_range_start: self.pickup_range_start,
            pickup_range_end: self.pickup_range_end,
            park_timeout_seconds: self.park_timeout_seconds,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// New-CsTeamsCallParkPolicy: unset values take the defaults.
    New {
        identity: String,
        #[command(flatten)]
        flags: PolicyFlags,
    },
    /// Set-CsTeamsCallParkPolicy: only the given values change.
    Set {
        identity: String,
        #[command(flatten)]
        flags: PolicyFlags,
    },
    /// Get-CsTeamsCallParkPolicy: one, all, or those matching --filter.
    Get {
        identity: Option<String>,
        #[arg(long, conflicts_with = "identity")]
        filter: Option<String>,
    },
    /// Remove-CsTeamsCallParkPolicy (refused while granted, unless --force).
    Remove {
        identity: String,
        #[arg(long)]
        force: bool,
    },
    /// Grant-CsTeamsCallParkPolicy to a user, a group (with --rank) or --global.
    Grant {
        /// The policy; leave out with --none to remove the grant.
        policy: Option<String>,
        #[arg(long, conflicts_with = "policy")]
        none: bool,
        #[arg(long, conflicts_with_all = ["group", "global"])]
        user: Option<String>,
        #[arg(long, conflicts_with = "global")]
        group: Option<String>,
        #[arg(long, requires = "group", allow_negative_numbers = true)]
        rank: Option<i64>,
        #[arg(long)]
        global: bool,
    },
}

pub async fn policy(
    client: &AdminClient,
    command: PolicyCommand,
    out: &Out,
) -> Result<(), Failure> {
    match command {
        PolicyCommand::New { identity, flags } => {
            let view = client.new_policy(&NewPolicy { identity, fields: flags.fields() }).await?;
            out.print(&view, || table::policies(std::slice::from_ref(&view)));
        }
        PolicyCommand::Set { identity, flags } => {
            let view = client.set_policy(&identity, &flags.fields()).await?;
            out.print(&view, || table::policies(std::slice::from_ref(&view)));
        }
        PolicyCommand::Get { identity: Some(identity), .. } => {
            let view = client.policy(&identity).await?;
            out.print(&view, || table::policies(std::slice::from_ref(&view)));
        }
        PolicyCommand::Get { identity: None, filter } => {
            let views = client.policies(filter.as_deref()).await?;
            out.print(&views, || table::policies(&views));
        }
        PolicyCommand::Remove { identity, force } => {
            client.remove_policy(&identity, force).await?;
            out.print(&serde_json::json!({"removed": identity}), || format!("Removed {identity}."));
        }
        PolicyCommand::Grant { policy, none, user, group, rank, global } => {
            if policy.is_none() && !none {
                return Err(Failure::Usage(
                    "name a policy, or give --none to remove the grant".into(),
                ));
            }
            let grant = GrantRequest { policy, user, group, rank, global };
            let reply = client.grant(&grant).await?;
            out.print(&reply, || match reply.rank {
                Some(rank) => format!("Granted (rank {rank})."),
                None => "Granted.".into(),
            });
        }
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct UserFlags {
    #[arg(long)]
    display_name: Option<String>,
    #[arg(long)]
    password: Option<String>,
    #[arg(long, value_name = "true|false")]
    admin: Option<bool>,
    #[arg(long, value_name = "true|false")]
    enterprise_voice: Option<bool>,
    /// voicemail, forward:<login> or disconnect.
    #[arg(long)]
    unanswered: Option<String>,
    #[arg(long, allow_negative_numbers = true)]
    unanswered_delay_seconds: Option<i64>,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    List,
    Get {
        login: String,
    },
    New {
        login: String,
        #[command(flatten)]
        flags: UserFlags,
    },
    Set {
        login: String,
        #[command(flatten)]
        flags: UserFlags,
    },
    Remove {
        login: String,
    },
    /// Signs the user out on every device: their sign-ins stop working at once.
    SignOut {
        login: String,
    },
}

pub async fn user(client: &AdminClient, command: UserCommand, out: &Out) -> Result<(), Failure> {
    let view = match command {
        UserCommand::List => {
            let views = client.users().await?;
            out.print(&views, || table::users(&views));
            return Ok(());
        }
        UserCommand::Get { login } => client.user(&login).await?,
        UserCommand::New { login, flags } => {
            let (Some(display_name), Some(password)) = (flags.display_name, flags.password) else {
                return Err(Failure::Usage(
                    "a new user needs --display-name and --password".into(),
                ));
            };
            let new = NewUser {
                login,
                display_name,
                password,
                admin: flags.admin.unwrap_or(false),
                enterprise_voice: flags.enterprise_voice.unwrap_or(false),
                unanswered: flags.unanswered,
                unanswered_delay_seconds: flags.unanswered_delay_seconds,
            };
            client.new_user(&new).await?
        }
        UserCommand::Set { login, flags } => {
            let changes = UserChanges {
                display_name: flags.display_name,
                password: flags.password,
                admin: flags.admin,
                enterprise_voice: flags.enterprise_voice,
                unanswered: flags.unanswered,
                unanswered_delay_seconds: flags.unanswered_delay_seconds,
            };
            client.set_user(&login, &changes).await?
        }
        UserCommand::SignOut { login } => {
            client.sign_out_user(&login).await?;
            out.print(&serde_json::json!({"signed_out": login}), || {
                format!("Signed {login} out on every device.")
            });
            return Ok(());
        }
        UserCommand::Remove { login } => {
            client.remove_user(&login).await?;
            out.print(&serde_json::json!({"removed": login}), || format!("Removed {login}."));
            return Ok(());
        }
    };
    out.print(&view, || table::users(std::slice::from_ref(&view)));
    Ok(())
}

#[derive(Debug, Subcommand)]
pub enum GroupCommand {
    List,
    Get {
        name: String,
    },
    New {
        name: String,
        /// A member's login (repeat for more).
        #[arg(long = "member")]
        members: Vec<String>,
    },
    Remove {
        name: String,
    },
    AddMember {
        group: String,
        login: String,
    },
    RemoveMember {
        group: String,
        login: String,
    },
}

pub async fn group(client: &AdminClient, command: GroupCommand, out: &Out) -> Result<(), Failure> {
    let view = match command {
        GroupCommand::List => {
            let views = client.groups().await?;
            out.print(&views, || table::groups(&views));
            return Ok(());
        }
        GroupCommand::Get { name } => client.group(&name).await?,
        GroupCommand::New { name, members } => {
            client.new_group(&NewGroup { name, members }).await?
        }
        GroupCommand::Remove { name } => {
            client.remove_group(&name).await?;
            out.print(&serde_json::json!({"removed": name}), || format!("Removed {name}."));
            return Ok(());
        }
        GroupCommand::AddMember { group, login } => client.set_member(&group, &login, true).await?,
        GroupCommand::RemoveMember { group, login } => {
            client.set_member(&group, &login, false).await?
        }
    };
    out.print(&view, || table::groups(std::slice::from_ref(&view)));
    Ok(())
}
