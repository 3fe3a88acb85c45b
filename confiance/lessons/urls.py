from django.urls import path

from confiance.lessons import views

urlpatterns = [
    path("lessons/", views.lesson_list, name="lesson-list"),
    path("lessons/similar/", views.lesson_similar, name="lesson-similar"),
    path(
        "engagements/<id:pk>/problems/<id:problem_id>/lessons/new/",
        views.problem_lesson,
        name="problem-lesson",
    ),
    path(
        "engagements/<id:pk>/problems/<id:problem_id>/lessons/repeat/",
        views.problem_repeat,
        name="problem-repeat",
    ),
    path("engagements/<id:pk>/kudos/", views.kudos, name="kudos"),
    path("people/<id:user_id>/", views.person_profile, name="person-profile"),
]
