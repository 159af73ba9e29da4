"""Passwords of eight or more characters that top every published list of leaked passwords.

Written out here from public facts about the most used passwords; compared lower-cased.
"""

COMMON_PASSWORDS = frozenset(
    """
    password password1 password12 password123 password1234 passw0rd p@ssw0rd p@ssword
    12345678 123456789 1234567890 12345678910 123123123 987654321 0987654321 11111111
    00000000 22222222 88888888 99999999 12341234 11223344 1q2w3e4r 1q2w3e4r5t 1qaz2wsx
    qwertyui qwerty12 qwerty123 qwerty1234 qwertyuiop asdfghjk asdfghjkl zxcvbnm1
    zaq12wsx abc12345 abcd1234 abcdefgh a1b2c3d4 aa123456 iloveyou iloveyou1 sunshine
    princess football football1 baseball welcome1 welcome123 trustno1 superman starwars
    whatever dragon12 master12 monkey12 letmein1 letmein123 shadow12 michael1 jennifer
    jordan23 computer internet corvette mercedes maverick michelle samantha liverpool
    chelsea1 arsenal1 charlie1 freedom1 hello123 hellohello changeme changeme1 default1
    administrator admin123 admin1234 adminadmin root1234 rootroot test1234 testtest
    test12345 guest123 secret12 secret123 mypassword mypass123 newpassword letmein!
    q1w2e3r4 q1w2e3r4t5 zxcvbnm123 123qweasd qweasdzxc 1234qwer qwer1234 asdf1234
    pokemon1 blink182 butterfly chocolate cookie123 daniel12 passport password! password@
    access14 batman123 buster12 dallas12 diamond1 flower12 ginger12 hannah12 hunter12
    jessica1 killer12 lovely12 matthew1 midnight nicole12 patrick1 pepper12 phoenix1
    qazwsxedc robert12 soccer12 summer12 thomas12 tigger12 yankees1 zxcvbnmm 147258369
    159753456 741852963 789456123 123456789a 12345678a 1234567a a12345678 aaaaaaaa
    abcabcabc asdasdasd qweqweqwe ppppppppp 123654789 555555555 777777777 666666666
    """.split()
)
