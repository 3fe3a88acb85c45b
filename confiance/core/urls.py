from django.contrib.auth import views as auth_views
from django.urls import path

from confiance.core import client_views, views
from confiance.core.auth import ThrottledLoginForm, ThrottledPasswordResetForm

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("setup/", views.setup, name="setup"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=ThrottledLoginForm),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password-reset/",
        auth_views.PasswordResetView.as_view(form_class=ThrottledPasswordResetForm),
        name="password_reset",
    ),
    path(
        "accounts/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path(
        "accounts/password-change/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password-change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("accounts/two-factor/", views.two_factor, name="two-factor"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation-accept"),
    path("i18n/setlang/", views.language_set, name="set_language"),
    path("accounts/notices/", views.notice_preferences, name="notice-preferences"),
    path("notices/unsubscribe/<str:token>/", views.notice_unsubscribe, name="notice-unsubscribe"),
]

workspace_patterns = [
    path("", views.workspace_home, name="workspace-home"),
    path("members/", views.members, name="members"),
    path("members/<int:pk>/remove/", views.member_remove, name="member-remove"),
    path("my-data/", views.my_data, name="my-data"),
    path("erasure/", views.erasure, name="erasure"),
    path("erasure/<id:pk>/", views.person_erase, name="person-erase"),
    path("clients/", client_views.client_list, name="client-list"),
    path("clients/<id:pk>/", client_views.client_detail, name="client-detail"),
    path("clients/<id:pk>/rename/", client_views.client_rename, name="client-rename"),
    path("clients/<id:pk>/archive/", client_views.client_archive, name="client-archive"),
    path("settings/", views.workspace_settings, name="workspace-settings"),
    path("settings/schedule/", views.schedule, name="schedule"),
    path("invitations/<id:pk>/revoke/", views.invitation_revoke, name="invitation-revoke"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<id:pk>/revoke/", views.token_revoke, name="token-revoke"),
]
