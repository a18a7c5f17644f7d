use crate::parties::Service;
use crate::support::{Desktop, free_port};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_explains_refusals_and_remembers_the_server_and_login() {
    let service = Service::start().await;
    let nobody_listens = format!("http://127.0.0.1:{}", free_port());
    Desktop::launch("sign_in")
        .await
        .run(async |app| {
            app.type_into("sign-in-server", &nobody_listens).await?;
            app.type_into("sign-in-login", "bob").await?;
            app.type_into("sign-in-password", "bob-demo").await?;
            app.click("sign-in-submit").await?;
            app.wait_for_text_containing("sign-in-error", "Cannot reach the server").await?;

            app.type_into("sign-in-server", &service.address).await?;
            app.type_into("sign-in-password", "not-the-password").await?;
            app.click("sign-in-submit").await?;
            app.wait_for_text("sign-in-error", "Wrong login name or password.").await?;

            app.type_into("sign-in-password", "").await?;
            app.click("sign-in-submit").await?;
            app.wait_for_text("sign-in-error", "Enter your password.").await?;

            app.sign_in(&service.address, "bob").await?;
            app.wait_for_text("signed-in-as", "Bob Okafor (bob)").await?;
            app.wait_for_text("parked-policy", "· Front desk").await?; // the name, not "Tag:Front desk"

            app.click("sign-out").await?;
            let server = app.by_test_id("sign-in-server").await?;
            assert_eq!(server.prop("value").await?, Some(service.address.clone()));
            let login = app.by_test_id("sign-in-login").await?;
            assert_eq!(login.prop("value").await?.as_deref(), Some("bob"));
            Ok(())
        })
        .await;
}
