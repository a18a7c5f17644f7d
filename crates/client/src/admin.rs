//! The admin REST API and sign-in, over reqwest.

use callpark_wire::admin::{
    ApiError, AuditEntry, GrantReply, GrantRequest, GroupView, LoginReply, LoginRequest, NewGroup,
    NewPolicy, NewUser, PolicyFields, PolicyView, UserChanges, UserView, VoicemailEntry,
};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::with_causes;
use crate::{ClientError, ServiceAddress};

fn unreachable(url: &str, error: &reqwest::Error) -> ClientError {
    ClientError::Unreachable { url: url.to_owned(), message: with_causes(error) }
}

async fn refusal(response: reqwest::Response) -> ClientError {
    let status = response.status();
    match response.json::<ApiError>().await {
        Ok(error) => ClientError::Refused(error),
        Err(_) => ClientError::Protocol(format!("HTTP {status} without an error body")),
    }
}

/// Signs in and returns the token and who it is for.
pub async fn login(
    service: &ServiceAddress,
    login: &str,
    password: &str,
) -> Result<LoginReply, ClientError> {
    let url = format!("{}/api/v1/login", service.base());
    let response = service
        .http()
        .post(&url)
        .json(&LoginRequest { login: login.to_owned(), password: password.to_owned() })
        .send()
        .await
        .map_err(|error| unreachable(&url, &error))?;
    if !response.status().is_success() {
        return Err(refusal(response).await);
    }
    response.json().await.map_err(|error| ClientError::Protocol(error.to_string()))
}

/// The admin API for a signed-in admin.
#[derive(Clone, Debug)]
pub struct AdminClient {
    service: ServiceAddress,
    token: String,
}

fn segment(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~' | b':') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

impl AdminClient {
    pub fn new(service: &ServiceAddress, token: &str) -> Self {
        Self { service: service.clone(), token: token.to_owned() }
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&(impl Serialize + ?Sized)>,
    ) -> Result<Option<T>, ClientError> {
        let url = format!("{}{path}", self.service.base());
        let mut request =
            self.service.http().request(method, &url).bearer_auth(&self.token).query(query);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|error| unreachable(&url, &error))?;
        if response.status() == StatusCode::NO_CONTENT {
            return Ok(None);
        }
        if !response.status().is_success() {
            return Err(refusal(response).await);
        }
        response.json().await.map(Some).map_err(|error| ClientError::Protocol(error.to_string()))
    }

    async fn fetch<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&(impl Serialize + ?Sized)>,
    ) -> Result<T, ClientError> {
        self.send(method, path, &[], body)
            .await?
            .ok_or_else(|| ClientError::Protocol("an empty reply where a body was due".into()))
    }

    const NO_BODY: Option<&'static ()> = None;

    pub async fn policies(&self, filter: Option<&str>) -> Result<Vec<PolicyView>, ClientError> {
        let query: Vec<(&str, String)> =
            filter.map(|f| ("filter", f.to_owned())).into_iter().collect();
        self.send(Method::GET, "/api/v1/policies", &query, Self::NO_BODY)
            .await?
            .ok_or_else(|| ClientError::Protocol("no policy list".into()))
    }

    pub async fn policy(&self, identity: &str) -> Result<PolicyView, ClientError> {
        self.fetch(Method::GET, &format!("/api/v1/policies/{}", segment(identity)), Self::NO_BODY)
            .await
    }

    pub async fn new_policy(&self, new: &NewPolicy) -> Result<PolicyView, ClientError> {
        self.fetch(Method::POST, "/api/v1/policies", Some(new)).await
    }

    pub async fn set_policy(
        &self,
        identity: &str,
        fields: &PolicyFields,
    ) -> Result<PolicyView, ClientError> {
        self.fetch(Method::PATCH, &format!("/api/v1/policies/{}", segment(identity)), Some(fields))
            .await
    }

    pub async fn remove_policy(&self, identity: &str, force: bool) -> Result<(), ClientError> {
        let path = format!("/api/v1/policies/{}", segment(identity));
        let query = [("force", force.to_string())];
        self.send::<()>(Method::DELETE, &path, &query, Self::NO_BODY).await.map(|_| ())
    }

    /// The signed-in user's voicemail messages, newest first.
    pub async fn voicemails(&self) -> Result<Vec<VoicemailEntry>, ClientError> {
        self.fetch(Method::GET, "/api/v1/voicemail", Self::NO_BODY).await
    }

    /// One message's audio (Ogg Opus).
    pub async fn voicemail_audio(&self, id: u64) -> Result<Vec<u8>, ClientError> {
        let url = format!("{}/api/v1/voicemail/{id}/audio", self.service.base());
        let request = self.service.http().get(&url).bearer_auth(&self.token);
        let response = request.send().await.map_err(|error| unreachable(&url, &error))?;
        if !response.status().is_success() {
            return Err(refusal(response).await);
        }
        let audio = response.bytes().await.map_err(|error| unreachable(&url, &error))?;
        Ok(audio.to_vec())
    }

    pub async fn delete_voicemail(&self, id: u64) -> Result<(), ClientError> {
        let path = format!("/api/v1/voicemail/{id}");
        self.send::<()>(Method::DELETE, &path, &[], Self::NO_BODY).await.map(|_| ())
    }

    pub async fn grant(&self, grant: &GrantRequest) -> Result<GrantReply, ClientError> {
        self.fetch(Method::POST, "/api/v1/grants", Some(grant)).await
    }

    pub async fn users(&self) -> Result<Vec<UserView>, ClientError> {
        self.fetch(Method::GET, "/api/v1/users", Self::NO_BODY).await
    }

    pub async fn user(&self, login: &str) -> Result<UserView, ClientError> {
        self.fetch(Method::GET, &format!("/api/v1/users/{}", segment(login)), Self::NO_BODY).await
    }

    pub async fn new_user(&self, new: &NewUser) -> Result<UserView, ClientError> {
        self.fetch(Method::POST, "/api/v1/users", Some(new)).await
    }

    pub async fn set_user(
        &self,
        login: &str,
        changes: &UserChanges,
    ) -> Result<UserView, ClientError> {
        self.fetch(Method::PATCH, &format!("/api/v1/users/{}", segment(login)), Some(changes)).await
    }

    pub async fn remove_user(&self, login: &str) -> Result<(), ClientError> {
        let path = format!("/api/v1/users/{}", segment(login));
        self.send::<()>(Method::DELETE, &path, &[], Self::NO_BODY).await.map(|_| ())
    }

    /// Signs everyone out who signed in as `login` (an admin's doing).
    pub async fn sign_out_user(&self, login: &str) -> Result<(), ClientError> {
        let path = format!("/api/v1/users/{}/sessions", segment(login));
        self.send::<()>(Method::DELETE, &path, &[], Self::NO_BODY).await.map(|_| ())
    }

    /// Ends this client's own sign-in: its token stops working everywhere.
    pub async fn logout(&self) -> Result<(), ClientError> {
        self.send::<()>(Method::POST, "/api/v1/logout", &[], Self::NO_BODY).await.map(|_| ())
    }

    pub async fn groups(&self) -> Result<Vec<GroupView>, ClientError> {
        self.fetch(Method::GET, "/api/v1/groups", Self::NO_BODY).await
    }

    pub async fn group(&self, name: &str) -> Result<GroupView, ClientError> {
        self.fetch(Method::GET, &format!("/api/v1/groups/{}", segment(name)), Self::NO_BODY).await
    }

    pub async fn new_group(&self, new: &NewGroup) -> Result<GroupView, ClientError> {
        self.fetch(Method::POST, "/api/v1/groups", Some(new)).await
    }

    pub async fn remove_group(&self, name: &str) -> Result<(), ClientError> {
        let path = format!("/api/v1/groups/{}", segment(name));
        self.send::<()>(Method::DELETE, &path, &[], Self::NO_BODY).await.map(|_| ())
    }

    pub async fn set_member(
        &self,
        group: &str,
        login: &str,
        member: bool,
    ) -> Result<GroupView, ClientError> {
        let path = format!("/api/v1/groups/{}/members/{}", segment(group), segment(login));
        let method = if member { Method::PUT } else { Method::DELETE };
        self.fetch(method, &path, Self::NO_BODY).await
    }

    pub async fn audit(
        &self,
        limit: u32,
        kind: Option<&str>,
        policy: Option<&str>,
    ) -> Result<Vec<AuditEntry>, ClientError> {
        let mut query = vec![("limit", limit.to_string())];
        query.extend(kind.map(|k| ("kind", k.to_owned())));
        query.extend(policy.map(|p| ("policy", p.to_owned())));
        self.send(Method::GET, "/api/v1/audit", &query, Self::NO_BODY)
            .await?
            .ok_or_else(|| ClientError::Protocol("no audit list".into()))
    }
}
